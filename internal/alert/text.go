package alert

import (
	"fmt"
	"strings"
	"text/template"
)

// templateFuncs are the functions a channel's template may use besides
// text/template's own.
var templateFuncs = template.FuncMap{"upper": strings.ToUpper, "lower": strings.ToLower, "join": strings.Join}

// Title is a one-line headline of a message.
func (m *Message) Title() string {
	switch m.Event {
	case EventResolve:
		return fmt.Sprintf("[RESOLVED] %s is %s", m.Check.Name, m.Status)
	case EventReminder:
		return fmt.Sprintf("[STILL %s] %s", strings.ToUpper(m.Status), m.Check.Name)
	case EventTest:
		return "[TEST] dnsscience alert test for " + m.Check.Name
	case EventSummary:
		if s := m.Summary; s != nil {
			return fmt.Sprintf("[FAILED] %s: %d of %d checks passed (%.1f%% < %.1f%%)", m.Check.Name, s.Passed, s.Total, s.Rate, s.MinSuccess)
		}
	}
	return fmt.Sprintf("[%s] %s", strings.ToUpper(m.Status), m.Check.Name)
}

// Lines are the message's details, one fact a line.
func (m *Message) Lines() []string {
	var out []string
	if m.Event == EventTest {
		out = append(out, "A test message: this channel works.")
	}
	if m.Status != "" && m.Event != EventTest {
		s := fmt.Sprintf("%s is %s", m.Check.Name, m.Status)
		if m.Previous != "" {
			s += " (was " + m.Previous + ")"
		}
		if m.Location != "" {
			s += " at " + m.Location
		}
		if m.Reason != "" {
			s += ": " + m.Reason
		}
		out = append(out, s)
	}
	if f := m.Failure; f != nil {
		if f.Layer != "" {
			out = append(out, "Failing layer: "+f.Layer)
		}
		if f.Condition != "" {
			out = append(out, fmt.Sprintf("Condition: %s (got %s)", f.Condition, f.Value))
		}
		if f.Error != "" {
			out = append(out, "Error: "+f.Error)
		}
	}
	if s := m.Summary; s != nil {
		for _, f := range s.Failing {
			out = append(out, "FAIL "+f)
		}
	}
	if m.Check.Target != "" {
		out = append(out, fmt.Sprintf("Target: %s %s", m.Check.Kind, m.Check.Target))
	}
	if m.Link != "" {
		out = append(out, "Link: "+m.Link)
	}
	return out
}

// Text is the message as plain text: the title, then the details.
func (m *Message) Text() string { return m.Title() + "\n" + strings.Join(m.Lines(), "\n") }

// text renders the message with the channel's template, or as Text.
func (h *poster) text(m *Message) (string, error) {
	if h.tmpl == nil {
		return m.Text(), nil
	}
	var b strings.Builder
	if err := h.tmpl.Execute(&b, m); err != nil {
		return "", &DeliveryError{Permanent: true, Err: fmt.Errorf("%s channel %s: template: %v", h.typ, h.name, err)}
	}
	return b.String(), nil
}
