package dnsq

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/miekg/dns"
)

// maxBulkLine is the longest input line read; a longer line is reported as
// invalid and skipped (a valid one is under 300 bytes).
const maxBulkLine = 4096

// ParseBulkLine parses one input line, "name" or "name TYPE", with def as
// the type when the line names none. The name is validated and returned
// fully qualified (see NormalizeName).
func ParseBulkLine(line string, def uint16) (name string, qtype uint16, err error) {
	fields := strings.Fields(line)
	switch len(fields) {
	case 1, 2:
	case 0:
		return "", 0, errors.New("empty line")
	default:
		return "", 0, fmt.Errorf("%d fields; want \"name\" or \"name TYPE\"", len(fields))
	}
	name, err = NormalizeName(fields[0])
	if err != nil {
		return "", 0, err
	}
	var wire [256]byte // escapes such as \065 make the wire form differ from the text
	if _, err := dns.PackDomainName(name, wire[:], 0, nil, false); err != nil {
		return "", 0, fmt.Errorf("%w: %q cannot be encoded: %v", ErrBadName, fields[0], err)
	}
	qtype = def
	if len(fields) == 2 {
		t, ok := ParseType(fields[1])
		if !ok {
			return "", 0, fmt.Errorf("unknown type %q; want a mnemonic such as A or MX, or TYPEnnn", fields[1])
		}
		qtype = t
	}
	return name, qtype, nil
}

// read feeds the engine from in: it takes slots, then reads as many
// non-blank lines; valid ones go to jobs, bad ones straight to results, each
// as one batch. It returns how many results to expect.
func (r *bulkRun) read(ctx context.Context, in io.Reader) readEnd {
	defer close(r.jobs)
	def := r.req.Type
	if def == 0 {
		def = dns.TypeA
	}
	br := bufio.NewReaderSize(in, 64*1024)
	lineNo, n := 0, 0
	for {
		k := r.slots.acquire(ctx, r.batch)
		if k == 0 {
			return readEnd{lines: n, err: ctx.Err()}
		}
		jobs := make([]bulkJob, 0, k)
		var bad []BulkResult
		var err error
		for len(jobs)+len(bad) < k {
			var raw []byte
			var tooLong bool
			raw, tooLong, err = readLine(br)
			if err != nil {
				break
			}
			lineNo++
			text := bytes.TrimSpace(raw)
			if len(text) == 0 || text[0] == '#' {
				continue
			}
			if j, res, ok := parseJob(lineNo, text, tooLong, def); ok {
				jobs = append(jobs, j)
			} else {
				bad = append(bad, res)
			}
			if br.Buffered() == 0 {
				break // do not hold names read while the input makes us wait
			}
		}
		n += len(jobs) + len(bad)
		r.slots.release(k - len(jobs) - len(bad))
		r.deliver(ctx, bad...)
		if len(jobs) > 0 && !r.send(ctx, jobs) {
			return readEnd{lines: n, err: ctx.Err()}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			} else {
				err = fmt.Errorf("reading names: %w", err)
			}
			return readEnd{lines: n, err: err}
		}
		if ctx.Err() != nil {
			return readEnd{lines: n, err: ctx.Err()}
		}
	}
}

func (r *bulkRun) send(ctx context.Context, jobs []bulkJob) bool {
	ptrs := make([]*bulkJob, len(jobs))
	for i := range jobs {
		ptrs[i] = &jobs[i]
	}
	select {
	case r.jobs <- ptrs:
		return true
	case <-ctx.Done():
		return false
	}
}

// parseJob turns one non-blank line into a job, or into the result that
// reports it invalid.
func parseJob(lineNo int, text []byte, tooLong bool, def uint16) (bulkJob, BulkResult, bool) {
	name, qtype, err := ParseBulkLine(string(text), def)
	if tooLong {
		err = fmt.Errorf("longer than %d bytes", maxBulkLine)
	}
	if err != nil {
		first, _, _ := bytes.Cut(text, []byte(" "))
		return bulkJob{}, BulkResult{
			Line: lineNo, Name: truncate(string(first), 255), Answer: []Record{},
			Error: "invalid line: " + err.Error(), kind: kindInvalid,
		}, false
	}
	return bulkJob{line: lineNo, name: name, qtype: qtype}, BulkResult{}, true
}

// readLine returns the next line without its newline. A line longer than
// maxBulkLine is consumed whole and returned cut, with tooLong set. The last
// line needs no newline; io.EOF comes after it.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) <= maxBulkLine {
			buf = append(buf, chunk...)
		} else {
			tooLong = true
			buf = append(buf, chunk[:max(0, maxBulkLine-len(buf))]...)
		}
		switch {
		case err == nil:
			return bytes.TrimSuffix(buf, []byte{'\n'}), tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return buf, tooLong, nil
		default:
			return nil, false, err
		}
	}
}
