package modem

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// lineFilter sits between the serial port and the AT driver and turns what
// real modems send into the standard shape the driver knows, in one place
// (real-modems.md, "What a gateway must do" 1 and 8):
//
//   - NUL bytes are dropped (Huawei E352 sends "\0OK"), and lines ending in
//     "\r\r\n" or padded with spaces are trimmed;
//   - the non-standard final results "COMMAND NOT SUPPORT" (Huawei 3G) and
//     "NA" (Samsung) become ERROR, so the command ends at once instead of
//     waiting out its timeout;
//   - a "+CPIN: <state>" answer without a final OK (Sierra SL808x, Wavecom,
//     Sony Ericsson) gets one: at once for a family known to omit it, after
//     cpinGrace otherwise.
//
// The driver reads the filter's output through a pipe. The filter owns two
// goroutines, the port reader and the line processor; both end when a read
// from the port fails, which Close (closing the port) causes.
type lineFilter struct {
	port io.ReadWriter
	out  *io.PipeReader
	pipe *io.PipeWriter

	// mu guards what the writer (the AT driver's command loop) and the
	// processor share.
	mu sync.Mutex
	// pending is the command last written, without "AT" ("+CPIN?"); it is
	// cleared when its final result has been read.
	pending string
	// cpinNoOK: this modem never ends +CPIN? with OK; set from the family
	// table, or learnt when the grace ran out once.
	cpinNoOK bool
	// swallowOK: an OK was supplied; a late real one before the next
	// command is dropped, lest it end that command.
	swallowOK bool
	// fixes counts the normalisations applied, by kind, for the probe.
	fixes map[QuirkCode]int
	// cpinWait is armed when a +CPIN: answer came without a final result.
	cpinWait bool
	// pdus counts the SMS bodies (ending in Ctrl-Z) written whole to the
	// modem: once one is out, the modem may send it whatever it answers.
	pdus atomic.Int64

	done chan struct{}
}

// cpinGrace is how long a +CPIN: answer may wait for its OK before the
// filter supplies one. Modems that send OK send it with the answer.
const cpinGrace = time.Second

// The normalisations the filter counts are reported as these quirks.
const (
	fixNUL          = QuirkNUL
	fixNotSupported = QuirkNotSupported
	fixNA           = QuirkNA
	fixCPINNoOK     = QuirkCPINDone
	fixLateOK       = QuirkLateOK
)

func newLineFilter(port io.ReadWriter) *lineFilter {
	r, w := io.Pipe()
	f := &lineFilter{port: port, out: r, pipe: w, fixes: map[QuirkCode]int{}, done: make(chan struct{})}
	chunks := make(chan []byte, 16)
	go f.readPort(chunks)
	go f.process(chunks)
	return f
}

// Read gives the AT driver the normalised stream.
func (f *lineFilter) Read(p []byte) (int, error) { return f.out.Read(p) }

// Write passes the AT driver's bytes to the modem and notes the command.
func (f *lineFilter) Write(p []byte) (int, error) {
	if cmd, ok := strings.CutPrefix(string(p), "AT"); ok {
		f.mu.Lock()
		f.pending = strings.ToUpper(strings.TrimRight(cmd, "\r\n"))
		f.swallowOK = false
		f.cpinWait = false
		f.mu.Unlock()
	}
	n, err := f.port.Write(p)
	if n == len(p) && len(p) > 0 && p[len(p)-1] == ctrlZ {
		f.pdus.Add(1)
	}
	return n, err
}

// ctrlZ ends the PDU after the "> " prompt of +CMGS.
const ctrlZ = 0x1a

// pdusWritten is how many SMS bodies went out to the modem so far.
func (f *lineFilter) pdusWritten() int64 { return f.pdus.Load() }

// setCPINNoOK says the modem's family omits the OK after +CPIN:.
func (f *lineFilter) setCPINNoOK() {
	f.mu.Lock()
	f.cpinNoOK = true
	f.mu.Unlock()
}

// applied lists the normalisations seen so far, with their counts.
func (f *lineFilter) applied() map[QuirkCode]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[QuirkCode]int, len(f.fixes))
	for k, v := range f.fixes {
		m[k] = v
	}
	return m
}

func (f *lineFilter) readPort(chunks chan<- []byte) {
	defer close(chunks)
	buf := make([]byte, 4096)
	for {
		n, err := f.port.Read(buf)
		if n > 0 {
			chunks <- slices.Clone(buf[:n])
		}
		if err != nil {
			f.mu.Lock()
			f.pending = ""
			f.mu.Unlock()
			f.pipe.CloseWithError(err)
			return
		}
	}
}

func (f *lineFilter) process(chunks <-chan []byte) {
	defer close(f.done)
	var buf []byte
	grace := time.NewTimer(time.Hour)
	grace.Stop()
	defer grace.Stop()
	for {
		select {
		case c, ok := <-chunks:
			if !ok {
				return
			}
			buf = append(buf, c...)
			var out []byte
			out, buf = f.lines(buf, grace)
			if len(out) > 0 {
				if _, err := f.pipe.Write(out); err != nil {
					return
				}
			}
		case <-grace.C:
			f.mu.Lock()
			supply := f.cpinWait
			if supply {
				f.cpinWait = false
				f.cpinNoOK = true // learnt: next time at once
				f.swallowOK = true
				f.fixes[fixCPINNoOK]++
			}
			f.mu.Unlock()
			if supply {
				if _, err := f.pipe.Write([]byte("\r\nOK\r\n")); err != nil {
					return
				}
			}
		}
	}
}

// lines normalises the complete lines of buf and returns them, with what is
// left of buf (a line still arriving). The SMS prompt, which has no line
// end, is passed on at once.
func (f *lineFilter) lines(buf []byte, grace *time.Timer) (out, rest []byte) {
	if n := bytes.Count(buf, []byte{0}); n > 0 {
		buf = bytes.ReplaceAll(buf, []byte{0}, nil)
		f.mu.Lock()
		f.fixes[fixNUL] += n
		f.mu.Unlock()
	}
	for {
		buf = bytes.TrimLeft(buf, "\r")
		if len(buf) > 0 && buf[0] == '>' {
			// The prompt of +CMGS: "> " with no line end.
			i := 1
			for i < len(buf) && buf[i] == ' ' {
				i++
			}
			out = append(out, buf[:i]...)
			buf = buf[i:]
			continue
		}
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return out, buf
		}
		line := strings.TrimSpace(string(buf[:i]))
		buf = buf[i+1:]
		if line == "" {
			continue
		}
		for _, l := range f.line(line, grace) {
			out = append(out, "\r\n"+l+"\r\n"...)
		}
	}
}

// line normalises one line; it may become none (a late OK) or two (an
// answer and the OK it lacked).
func (f *lineFilter) line(l string, grace *time.Timer) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch strings.ToUpper(l) {
	case "COMMAND NOT SUPPORT":
		f.fixes[fixNotSupported]++
		l = "ERROR"
	case "NA":
		f.fixes[fixNA]++
		l = "ERROR"
	}
	if isFinal(l) {
		if l == "OK" && f.swallowOK {
			f.swallowOK = false
			f.fixes[fixLateOK]++
			return nil
		}
		f.cpinWait = false
		grace.Stop()
		f.pending = ""
		return []string{l}
	}
	if strings.HasPrefix(l, "+CPIN:") && strings.HasPrefix(f.pending, "+CPIN?") {
		if f.cpinNoOK {
			f.pending = ""
			f.swallowOK = true
			f.fixes[fixCPINNoOK]++
			return []string{l, "OK"}
		}
		f.cpinWait = true
		grace.Reset(cpinGrace)
	}
	return []string{l}
}

// isFinal reports the final result codes of a command, as the AT driver
// recognises them.
func isFinal(l string) bool {
	return l == "OK" || strings.HasPrefix(l, "ERROR") ||
		strings.HasPrefix(l, "+CME ERROR:") || strings.HasPrefix(l, "+CMS ERROR:")
}
