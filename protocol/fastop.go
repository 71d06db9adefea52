package protocol

import (
	"bytes"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// decodeOpFast decodes the common form of an op message, as browsers send
// it (JSON.stringify: no spaces, lowercase keys, each once):
//
//	{"type":"op","rev":12,"seq":4,"op":[3,"x",20],"sel":[{"anchor":4,"head":4}]}
//
// without reflection: the op message is what every keystroke costs, and
// encoding/json was a tenth of the server's CPU under load. It reports false
// for anything else (other types, spaces, unknown or repeated keys, numbers
// that are not plain integers, an op or selection that does not parse),
// and the caller decodes that with encoding/json, whose answers, errors
// included, stay the reference: FuzzOpFast checks that both agree whenever
// this succeeds.
func decodeOpFast(data []byte) (*ClientMsg, bool) {
	const head = `{"type":"op",`
	if !bytes.HasPrefix(data, []byte(head)) || data[len(data)-1] != '}' {
		return nil, false
	}
	var (
		o                     OpMsg
		hasRev, hasSeq, hasOp bool
		hasSel                bool
	)
	i := len(head)
	for {
		key, j, ok := fastKey(data, i)
		if !ok {
			return nil, false
		}
		i = j
		switch key {
		case "rev":
			n, j, ok := fastUint(data, i)
			if !ok || hasRev || n > uint64(MaxRev) {
				return nil, false
			}
			o.Rev, hasRev, i = scribe.Revision(n), true, j
		case "seq":
			n, j, ok := fastUint(data, i)
			if !ok || hasSeq || n == 0 || n > MaxSeq {
				return nil, false
			}
			o.Seq, hasSeq, i = n, true, j
		case "op":
			j := arrayEnd(data, i)
			if j < 0 || hasOp {
				return nil, false
			}
			op, err := ot.ParseJSON(data[i:j])
			if err != nil {
				return nil, false
			}
			o.Op, hasOp, i = op, true, j
		case "sel":
			sel, j, ok := fastSel(data, i)
			if !ok || hasSel {
				return nil, false
			}
			o.Sel, hasSel, i = sel, true, j
		default:
			return nil, false
		}
		switch {
		case i == len(data)-1 && data[i] == '}':
			if !hasRev || !hasSeq || !hasOp {
				return nil, false
			}
			rev := int64(o.Rev)
			return &ClientMsg{Type: "op", Rev: &rev, Seq: &o.Seq, op: &o}, true
		case i < len(data) && data[i] == ',':
			i++
		default:
			return nil, false
		}
	}
}

// fastKey reads `"key":` at i: a plain lowercase key.
func fastKey(data []byte, i int) (string, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return "", 0, false
	}
	j := i + 1
	for j < len(data) && data[j] >= 'a' && data[j] <= 'z' {
		j++
	}
	if j+1 >= len(data) || data[j] != '"' || data[j+1] != ':' {
		return "", 0, false
	}
	return string(data[i+1 : j]), j + 2, true
}

// fastUint reads a plain non-negative JSON integer at i (no sign, no
// leading zero, no fraction or exponent) below 2^63.
func fastUint(data []byte, i int) (uint64, int, bool) {
	j := i
	var n uint64
	for j < len(data) && data[j] >= '0' && data[j] <= '9' {
		if j-i >= 18 {
			return 0, 0, false
		}
		n = n*10 + uint64(data[j]-'0')
		j++
	}
	if j == i || (data[i] == '0' && j-i > 1) {
		return 0, 0, false
	}
	if j < len(data) && (data[j] == '.' || data[j] == 'e' || data[j] == 'E') {
		return 0, 0, false
	}
	return n, j, true
}

// arrayEnd returns the index just past the JSON array starting at i, or -1.
// It only finds the end (strings and nesting); ot.ParseJSON validates.
func arrayEnd(data []byte, i int) int {
	if i >= len(data) || data[i] != '[' {
		return -1
	}
	depth := 0
	for j := i; j < len(data); j++ {
		switch data[j] {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return j + 1
			}
		case '"':
			for j++; j < len(data) && data[j] != '"'; j++ {
				if data[j] == '\\' {
					j++
				}
			}
			if j >= len(data) {
				return -1
			}
		}
	}
	return -1
}

// fastSel reads a selection in the exact form [{"anchor":a,"head":h},...]
// (keys in either order, each once) with the limits parseSel applies.
func fastSel(data []byte, i int) ([]ot.Range, int, bool) {
	if i >= len(data) || data[i] != '[' {
		return nil, 0, false
	}
	i++
	sel := []ot.Range{}
	if i < len(data) && data[i] == ']' {
		return sel, i + 1, true
	}
	for {
		if i >= len(data) || data[i] != '{' || len(sel) == MaxSelRanges {
			return nil, 0, false
		}
		i++
		var r ot.Range
		var hasA, hasH bool
		for {
			key, j, ok := fastKey(data, i)
			if !ok {
				return nil, 0, false
			}
			n, j, ok := fastUint(data, j)
			if !ok || n > ot.MaxLength {
				return nil, 0, false
			}
			switch {
			case key == "anchor" && !hasA:
				r.Anchor, hasA = int(n), true
			case key == "head" && !hasH:
				r.Head, hasH = int(n), true
			default:
				return nil, 0, false
			}
			i = j
			if i < len(data) && data[i] == ',' {
				i++
				continue
			}
			if i < len(data) && data[i] == '}' && hasA && hasH {
				i++
				break
			}
			return nil, 0, false
		}
		sel = append(sel, r)
		switch {
		case i < len(data) && data[i] == ',':
			i++
		case i < len(data) && data[i] == ']':
			return sel, i + 1, true
		default:
			return nil, 0, false
		}
	}
}
