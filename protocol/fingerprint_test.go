package protocol

import "testing"

// The fingerprint's vectors, shared with web/test/collab.test.mjs: Go and
// JavaScript must compute the same.
func TestFingerprint(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Fingerprint
	}{
		{"", Fingerprint{0, 0x811c9dc5}},
		{"hi", Fingerprint{2, 0x683af69a}},
		{"a😀é", Fingerprint{4, 3334198925}},
	} {
		if got := FingerprintOf(tc.text); got != tc.want {
			t.Errorf("FingerprintOf(%q) = %+v, want %+v", tc.text, got, tc.want)
		}
	}
	m, err := DecodeClientMsg([]byte(`{"type":"hello","protocol":1,"session":"abcdefgh","rev":3,"len":4,"hash":3334198925}`))
	if err != nil {
		t.Fatal(err)
	}
	h, err := m.Hello()
	if err != nil || !h.HasFP || h.FP != (Fingerprint{4, 3334198925}) {
		t.Fatalf("hello: %+v, %v", h, err)
	}
	for _, bad := range []string{
		`{"type":"hello","protocol":1,"session":"abcdefgh","len":4,"hash":1}`,
		`{"type":"hello","protocol":1,"session":"abcdefgh","rev":3,"len":4}`,
		`{"type":"hello","protocol":1,"session":"abcdefgh","rev":3,"len":4,"hash":4294967296}`,
		`{"type":"hello","protocol":1,"session":"abcdefgh","rev":3,"len":-1,"hash":1}`,
	} {
		m, err := DecodeClientMsg([]byte(bad))
		if err == nil {
			_, err = m.Hello()
		}
		if err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	if got := string(EncodeHello(Hello{Session: "abcdefgh", Name: "A", Rev: 3, HasRev: true, FP: Fingerprint{4, 7}, HasFP: true})); got != `{"type":"hello","protocol":1,"session":"abcdefgh","name":"A","rev":3,"len":4,"hash":7}` {
		t.Errorf("EncodeHello: %s", got)
	}
}
