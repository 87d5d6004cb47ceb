package check

import (
	"fmt"
	"strings"
	"unicode"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tDuration
	tOp     // == != < <= > >=
	tAnd    // &&
	tOr     // ||
	tNot    // !
	tLParen // (
	tRParen // )
)

type token struct {
	kind tokKind
	text string // as written (strings unquoted)
	pos  int    // byte offset, 0-based
}

// lex splits a condition into tokens.
func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '"' || c == '\'':
			str, n, err := lexString(s[i:])
			if err != nil {
				return nil, posErr(i, "%v", err)
			}
			toks = append(toks, token{tString, str, i})
			i += n
		case c >= '0' && c <= '9' || (c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9'):
			t, n := lexNumber(s[i:])
			t.pos = i
			toks = append(toks, t)
			i += n
		case isIdentStart(rune(c)):
			j := i + 1
			for j < len(s) && isIdentPart(rune(s[j])) {
				j++
			}
			toks = append(toks, token{tIdent, s[i:j], i})
			i = j
		default:
			t, n, err := lexPunct(s[i:])
			if err != nil {
				return nil, posErr(i, "%v", err)
			}
			t.pos = i
			toks = append(toks, t)
			i += n
		}
	}
	return append(toks, token{kind: tEOF, pos: len(s)}), nil
}

func lexString(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case q:
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("unterminated string")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

// lexNumber reads a number, or a duration when letters follow the digits
// (300ms, 14d, 1h30m).
func lexNumber(s string) (token, int) {
	j := 0
	if s[0] == '-' {
		j++
	}
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
		j++
	}
	if j < len(s) && unicode.IsLetter(rune(s[j])) {
		for j < len(s) && (unicode.IsLetter(rune(s[j])) || s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		return token{kind: tDuration, text: s[:j]}, j
	}
	return token{kind: tNumber, text: s[:j]}, j
}

func lexPunct(s string) (token, int, error) {
	two := ""
	if len(s) >= 2 {
		two = s[:2]
	}
	switch two {
	case "==", "!=", "<=", ">=":
		return token{kind: tOp, text: two}, 2, nil
	case "&&":
		return token{kind: tAnd, text: two}, 2, nil
	case "||":
		return token{kind: tOr, text: two}, 2, nil
	}
	switch s[0] {
	case '<', '>':
		return token{kind: tOp, text: s[:1]}, 1, nil
	case '!':
		return token{kind: tNot, text: "!"}, 1, nil
	case '(':
		return token{kind: tLParen, text: "("}, 1, nil
	case ')':
		return token{kind: tRParen, text: ")"}, 1, nil
	case '=':
		return token{}, 0, fmt.Errorf("unexpected \"=\"; use == to compare")
	}
	return token{}, 0, fmt.Errorf("unexpected character %q", s[0])
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

// isIdentPart allows dots, dashes and brackets so that paths such as
// body.json.items[0].id and header.content-type lex as one word.
func isIdentPart(r rune) bool {
	return r == '_' || r == '.' || r == '-' || r == '[' || r == ']' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// posError is a syntax error at a byte offset in the condition.
type posError struct {
	pos int
	msg string
}

func (e *posError) Error() string { return fmt.Sprintf("column %d: %s", e.pos+1, e.msg) }

func posErr(pos int, format string, args ...any) error {
	return &posError{pos: pos, msg: fmt.Sprintf(format, args...)}
}
