package check

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ParseCondition parses text; known reports whether a variable path exists
// (nil accepts every path).
func ParseCondition(text string, known func(path string) bool) (*Condition, error) {
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, known: known}
	if p.peek().kind == tEOF {
		return nil, posErr(0, "empty condition")
	}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, posErr(t.pos, "unexpected %s; expected && or || or the end", describe(t))
	}
	return &Condition{Text: text, root: root}, nil
}

type parser struct {
	toks  []token
	i     int
	known func(string) bool
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	for err == nil && (p.peek().kind == tOr || isWord(p.peek(), "or")) {
		p.next()
		var r node
		if r, err = p.and(); err == nil {
			l = orNode{l, r}
		}
	}
	return l, err
}

func (p *parser) and() (node, error) {
	l, err := p.unary()
	for err == nil && (p.peek().kind == tAnd || isWord(p.peek(), "and")) {
		p.next()
		var r node
		if r, err = p.unary(); err == nil {
			l = andNode{l, r}
		}
	}
	return l, err
}

func (p *parser) unary() (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 100 {
		return nil, posErr(p.peek().pos, "condition nested too deeply")
	}
	t := p.peek()
	switch {
	case t.kind == tNot || isWord(t, "not"):
		p.next()
		x, err := p.unary()
		return notNode{x}, err
	case t.kind == tLParen:
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, posErr(c.pos, "expected ) but found %s", describe(c))
		}
		return x, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (node, error) {
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	op := ""
	switch {
	case t.kind == tOp:
		op = t.text
	case isWord(t, "contains"), isWord(t, "matches"):
		op = strings.ToLower(t.text)
	default:
		if l.path == "" {
			return nil, posErr(t.pos, "expected an operator (==, !=, <, <=, >, >=, contains, matches) but found %s", describe(t))
		}
		return truthNode{l}, nil
	}
	p.next()
	rt := p.peek()
	r, err := p.operand()
	if err != nil {
		return nil, err
	}
	n := cmpNode{l: l, op: op, r: r}
	if op == "matches" {
		s, ok := r.lit.(string)
		if r.path != "" || !ok {
			return nil, posErr(rt.pos, "matches needs a quoted regular expression")
		}
		if n.re, err = regexp.Compile(s); err != nil {
			return nil, posErr(rt.pos, "bad regular expression: %v", err)
		}
	}
	return n, nil
}

func (p *parser) operand() (operand, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return operand{lit: t.text}, nil
	case tNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return operand{}, posErr(t.pos, "bad number %q", t.text)
		}
		return operand{lit: f}, nil
	case tDuration:
		d, err := parseDuration(t.text)
		if err != nil {
			return operand{}, posErr(t.pos, "bad duration %q: want a number with a unit such as 300ms, 2s, 5m, 1h or 14d", t.text)
		}
		return operand{lit: d}, nil
	case tIdent:
		return p.ident(t)
	}
	return operand{}, posErr(t.pos, "expected a value or variable but found %s", describe(t))
}

func (p *parser) ident(t token) (operand, error) {
	switch strings.ToLower(t.text) {
	case "true":
		return operand{lit: true}, nil
	case "false":
		return operand{lit: false}, nil
	}
	if isConstant(t.text) {
		return operand{lit: t.text}, nil // NOERROR, NXDOMAIN, SERVFAIL ...
	}
	if p.known != nil && !p.known(t.text) {
		return operand{}, posErr(t.pos, "unknown variable %q", t.text)
	}
	return operand{path: t.text}, nil
}

// isConstant reports upper-case words such as NOERROR or TLS1_3, taken as
// strings.
func isConstant(s string) bool {
	hasLetter := false
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			hasLetter = true
		case r >= '0' && r <= '9', r == '_':
		default:
			return false
		}
	}
	return hasLetter
}

func isWord(t token, w string) bool { return t.kind == tIdent && strings.EqualFold(t.text, w) }

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "the end"
	case tString:
		return strconv.Quote(t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// parseDuration accepts Go durations plus d (days) and w (weeks).
func parseDuration(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if num, ok := strings.CutSuffix(s, suffix); ok {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, err
			}
			return time.Duration(f * float64(unit)), nil
		}
	}
	return time.ParseDuration(s)
}
