package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/scribe-notes/scribe"
)

// proxy believes identity headers from trusted peers only.
type proxy struct {
	trusted     []netip.Prefix
	emailHeader string
	nameHeader  string
}

func newProxy(cidrs []string, emailHeader, nameHeader string) (*proxy, error) {
	p := &proxy{emailHeader: emailHeader, nameHeader: nameHeader}
	if p.emailHeader == "" {
		p.emailHeader = DefaultEmailHeader
	}
	if p.nameHeader == "" {
		p.nameHeader = DefaultNameHeader
	}
	for _, c := range cidrs {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		pfx, err := ParsePrefix(c)
		if err != nil {
			return nil, err
		}
		p.trusted = append(p.trusted, pfx)
	}
	if len(p.trusted) == 0 {
		return nil, errors.New("auth: --auth proxy needs --trusted-proxies (the CIDRs the proxy connects from, e.g. 127.0.0.1/32)")
	}
	return p, nil
}

// ParsePrefix parses a CIDR or a single address (as a /32 or /128).
func ParsePrefix(s string) (netip.Prefix, error) {
	if pfx, err := netip.ParsePrefix(s); err == nil {
		return pfx.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("auth: --trusted-proxies %q: want a CIDR such as 10.0.0.0/8 or an address", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Trusted reports whether the request's peer is one of the proxies.
func (p *proxy) Trusted(r *http.Request) bool {
	peer, ok := peerAddr(r)
	if !ok {
		return false
	}
	for _, pfx := range p.trusted {
		if pfx.Contains(peer) {
			return true
		}
	}
	return false
}

// person returns who the proxy says is asking. From an untrusted peer the
// headers are ignored: the request is a stranger, whatever it claims. From
// a trusted peer without a well-formed email, also a stranger (the proxy let
// through a request it did not authenticate, e.g. a skipped path).
func (p *proxy) person(r *http.Request) scribe.Person {
	if !p.Trusted(r) {
		return scribe.Person{}
	}
	email := scribe.NormalizeEmail(r.Header.Get(p.emailHeader))
	if !validEmail(email) {
		return scribe.Person{}
	}
	name := strings.TrimSpace(r.Header.Get(p.nameHeader))
	if name == "" || len(name) > scribe.MaxTokenLabel || strings.ContainsFunc(name, func(c rune) bool { return c < ' ' || c == 0x7f }) {
		name = email[:strings.LastIndexByte(email, '@')]
	}
	return scribe.Person{Email: email, Name: name, Via: scribe.ViaProxy}
}
