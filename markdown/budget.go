package markdown

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Limits bound the work of rendering or parsing one note. A note past any
// of them is shown as its escaped source in a <pre> (Fallback) instead of
// formatted; a zero field takes its default from DefaultLimits.
type Limits struct {
	// MaxTableCells bounds rows × columns summed over a note's tables.
	// GFM pads every row to the header's width, so a short note of
	// one-character rows under a wide header makes a huge page.
	MaxTableCells int
	// MaxDepth bounds how deeply block quotes and lists nest on one line.
	// goldmark re-measures the line's indentation for every container it
	// opens, which is quadratic in the depth.
	MaxDepth int
	// MaxLinkScan bounds the bytes goldmark scans for inline link
	// destinations. For each "](" it scans on to the next whitespace or
	// unmatched ")" and, when no ")" closes the link, starts again at the
	// next "](": `[a](` repeated n times costs n²/2 steps.
	MaxLinkScan int
	// MaxOutput bounds the rendered HTML, in bytes.
	MaxOutput int
	// Timeout bounds the wait for one render or parse. goldmark cannot be
	// interrupted: a render past its timeout is abandoned (the caller gets
	// the fallback) but runs to its end, holding its concurrency slot.
	Timeout time.Duration
}

// DefaultLimits are generous for any real note (the largest note is 1 MiB
// by default) and cut the pathological ones of issue 12 short.
var DefaultLimits = Limits{
	MaxTableCells: 50_000,
	MaxDepth:      64,
	MaxLinkScan:   4 << 20,
	MaxOutput:     8 << 20,
	Timeout:       2 * time.Second,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxTableCells <= 0 {
		l.MaxTableCells = d.MaxTableCells
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxLinkScan <= 0 {
		l.MaxLinkScan = d.MaxLinkScan
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = d.MaxOutput
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	return l
}

// Why a render fell back to the escaped source. Errors wrapping
// ErrTooComplex come from the pre-scan or the output budget, and are
// remembered with the text; ErrTimeout and ErrBusy are not the text's fault.
var (
	ErrTooComplex = errors.New("markdown too complex to format")
	ErrTimeout    = errors.New("markdown render timed out")
	ErrBusy       = errors.New("too many markdown renders at once")
)

// Check is the pre-scan: it reads src once, in linear time, and returns an
// error wrapping ErrTooComplex when parsing it would exceed a table, depth or
// link-scan limit. Each count is an upper bound of goldmark's work, so a note
// that passes cannot trigger the quadratic paths it measures.
func Check(src string, l Limits) error {
	l = l.withDefaults()
	lines := splitLines(src)
	// run[i] is the number of non-blank lines from i on, up to the next blank
	// line: an upper bound of the rows of a table whose delimiter row is i-1
	// (a table is a paragraph, which a blank line ends; lazy continuation
	// lines are counted too).
	run := make([]int32, len(lines)+1)
	for i := len(lines) - 1; i >= 0; i-- {
		if isBlank(lines[i]) {
			run[i] = 0
		} else {
			run[i] = run[i+1] + 1
		}
	}
	cells, scan := 0, 0
	for i, line := range lines {
		if d := depth(line); d > l.MaxDepth {
			return fmt.Errorf("%w: %d levels of quotes or lists on line %d (limit %d)", ErrTooComplex, d, i+1, l.MaxDepth)
		}
		if i > 0 && isTableDelim(line) {
			cols := tableCols(line)
			cells += cols * (int(run[i+1]) + 1)
			if cells > l.MaxTableCells {
				return fmt.Errorf("%w: tables of more than %d cells", ErrTooComplex, l.MaxTableCells)
			}
		}
		scan += linkScan(line)
		if scan > l.MaxLinkScan {
			return fmt.Errorf("%w: more than %d bytes of unclosed link destinations", ErrTooComplex, l.MaxLinkScan)
		}
	}
	return nil
}

// splitLines splits src at '\n', without copying.
func splitLines(src string) []string {
	lines := make([]string, 0, strings.Count(src, "\n")+1)
	for {
		i := strings.IndexByte(src, '\n')
		if i < 0 {
			return append(lines, src)
		}
		lines = append(lines, src[:i])
		src = src[i+1:]
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// isBlank reports whether a line is empty once container prefixes (">")
// and whitespace are removed: it ends a paragraph, hence a table.
func isBlank(line string) bool {
	for i := 0; i < len(line); i++ {
		if c := line[i]; !isSpace(c) && c != '>' {
			return false
		}
	}
	return true
}

// isTableDelim reports whether a line, after its container prefix, could
// be a GFM table's delimiter row: only '|', ':', '-' and spaces, with at
// least one '-' and one '|' (a row of dashes alone is a thematic break).
func isTableDelim(line string) bool {
	line = strings.TrimLeft(line, " \t>")
	dash, pipe := false, false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '-':
			dash = true
		case '|':
			pipe = true
		case ':', ' ', '\t', '\r':
		default:
			return false
		}
	}
	return dash && pipe
}

// tableCols is the number of cells of a delimiter row: goldmark splits it
// at '|' and drops an empty first and last cell.
func tableCols(line string) int {
	line = strings.Trim(line, " \t\r>")
	n := strings.Count(line, "|") + 1
	if strings.HasPrefix(line, "|") {
		n--
	}
	if strings.HasSuffix(line, "|") && len(line) > 1 {
		n--
	}
	return n
}

// depth is an upper bound of the containers (block quotes, list items)
// open on a line: its quote and list markers at the start, plus one per two
// columns of indentation (how list items nest across lines).
func depth(line string) int {
	d, cols := 0, 0
	for i := 0; i < len(line); {
		switch c := line[i]; {
		case c == ' ':
			cols++
			i++
		case c == '\t':
			cols += 4
			i++
		case c == '>':
			d++
			i++
			if i < len(line) && line[i] == ' ' {
				i++ // the marker's own space
			}
		case (c == '-' || c == '*' || c == '+') && i+1 < len(line) && (line[i+1] == ' ' || line[i+1] == '\t'):
			d++
			i += 2
		case c >= '0' && c <= '9':
			j := i
			for j < len(line) && j-i < 10 && line[j] >= '0' && line[j] <= '9' {
				j++
			}
			if j+1 < len(line) && (line[j] == '.' || line[j] == ')') && (line[j+1] == ' ' || line[j+1] == '\t') {
				d++
				i = j + 2
				continue
			}
			return d + cols/2
		default:
			return d + cols/2
		}
	}
	return d + cols/2
}

// linkScan is an upper bound of the bytes goldmark's parseLinkDestination
// reads on one line: after each "](" up to the ")" matching its "(" or the
// next whitespace, and after each "](<" up to the next '>' or the end of the
// line. One pass with a stack of open parentheses, so linear.
func linkScan(line string) int {
	total := 0
	var open []int // positions of '(' in the current whitespace-free run; -1-pos marks a link's
	nextGT := -1   // cached position of the next '>' at or after some point
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line) && isPunct(line[i+1]):
			i++
		case isSpace(c):
			for _, p := range open {
				if p < 0 {
					total += i - (-1 - p)
				}
			}
			open = open[:0]
		case c == '(':
			if i > 0 && line[i-1] == ']' {
				if i+1 < len(line) && line[i+1] == '<' {
					if nextGT <= i {
						if j := strings.IndexByte(line[i+1:], '>'); j >= 0 {
							nextGT = i + 1 + j
						} else {
							nextGT = len(line)
						}
					}
					total += nextGT - i
				}
				open = append(open, -1-i)
			} else {
				open = append(open, i)
			}
		case c == ')':
			if n := len(open); n > 0 {
				if p := open[n-1]; p < 0 {
					total += i - (-1 - p)
				}
				open = open[:n-1]
			}
		}
	}
	for _, p := range open {
		if p < 0 {
			total += len(line) - (-1 - p)
		}
	}
	return total
}

func isPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}
