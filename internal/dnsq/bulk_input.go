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

// read parses in ahead of the senders: valid lines go to lines in batches,
// invalid ones straight to emit. A batch is sent when full or when the input
// has nothing more buffered, so names are not held while the input waits.
func (r *bulkRun) read(ctx context.Context, in io.Reader) {
	defer close(r.lines)
	def := r.req.Type
	if def == 0 {
		def = dns.TypeA
	}
	br := bufio.NewReaderSize(in, 64*1024)
	lineNo, n := 0, 0
	batch := make([]bulkJob, 0, r.batch)
	for {
		raw, tooLong, err := readLine(br)
		if err == nil {
			lineNo++
			if text := bytes.TrimSpace(raw); len(text) > 0 && text[0] != '#' {
				n++
				if j, res, ok := parseJob(lineNo, text, tooLong, def); ok {
					batch = append(batch, j)
				} else {
					r.finish(false, res)
				}
			}
		}
		if len(batch) > 0 && (len(batch) == r.batch || br.Buffered() == 0 || err != nil) {
			if !r.send(ctx, batch) {
				return
			}
			batch = make([]bulkJob, 0, r.batch)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			} else {
				err = fmt.Errorf("bulk lookup: reading names: %w", err)
			}
			r.inputEnd(n, err)
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// send passes a batch to the senders and wakes them if they ran dry.
func (r *bulkRun) send(ctx context.Context, jobs []bulkJob) bool {
	ptrs := make([]*bulkJob, len(jobs))
	for i := range jobs {
		ptrs[i] = &jobs[i]
	}
	select {
	case r.lines <- ptrs:
	case <-ctx.Done():
		return false
	}
	if r.inputStarved.Swap(false) {
		r.kickAll()
	}
	return true
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
