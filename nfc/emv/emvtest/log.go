package emvtest

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrLog reports a malformed APDU log.
var ErrLog = errors.New("emvtest: malformed APDU log")

// MaxLogLine bounds one line of a log (an extended APDU in hex and then some).
const MaxLogLine = 1 << 18

// ParseLog reads an APDU log in the text form
//
//	# comment
//	> 00a404000e325041592e5359532e444446303100
//	< 6f3c…9000
//
// one command ("> ") followed by its response ("< ") per exchange, hex with
// optional spaces, blank lines and '#' comments ignored. Errors wrap ErrLog
// with the line number.
func ParseLog(r io.Reader) ([]Exchange, error) {
	var out []Exchange
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLogLine)
	line := 0
	want := byte('>')
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		if s[0] != '>' && s[0] != '<' {
			return nil, fmt.Errorf("%w: line %d: want '>' or '<'", ErrLog, line)
		}
		if s[0] != want {
			return nil, fmt.Errorf("%w: line %d: %c out of order", ErrLog, line, s[0])
		}
		b, err := hex.DecodeString(strings.ReplaceAll(s[1:], " ", ""))
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrLog, line, err)
		}
		if want == '>' {
			if len(b) < 4 {
				return nil, fmt.Errorf("%w: line %d: command shorter than its header", ErrLog, line)
			}
			out = append(out, Exchange{Command: b})
			want = '<'
		} else {
			if len(b) < 2 {
				return nil, fmt.Errorf("%w: line %d: response without status word", ErrLog, line)
			}
			out[len(out)-1].Response = b
			want = '>'
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLog, err)
	}
	if want == '<' {
		return nil, fmt.Errorf("%w: last command has no response", ErrLog)
	}
	return out, nil
}
