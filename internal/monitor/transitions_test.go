package monitor

import "testing"

func TestTransitionHub(t *testing.T) {
	t.Parallel()
	m := New(Config{})
	all, cancelAll, err := m.SubscribeTransitions("", 2)
	if err != nil {
		t.Fatal(err)
	}
	one, cancelOne, _ := m.SubscribeTransitions("a", 10)
	defer cancelOne()
	m.hub.publish(Event{Check: "a", To: "down"})
	m.hub.publish(Event{Check: "b", To: "down"})
	if ev := <-one; ev.Check != "a" {
		t.Errorf("filtered subscriber got %+v", ev)
	}
	select {
	case ev := <-one:
		t.Errorf("filtered subscriber got another check's %+v", ev)
	default:
	}
	// all's buffer (2) is full: the third change drops it.
	m.hub.publish(Event{Check: "c", To: "up"})
	got := 0
	for range all {
		got++
	}
	if got != 2 {
		t.Errorf("slow subscriber got %d changes before being dropped, want 2", got)
	}
	cancelAll() // after a drop: no double close
	m.hub.publish(Event{Check: "a", To: "up"})
	if ev := <-one; ev.To != "up" {
		t.Errorf("the other subscriber after a drop got %+v", ev)
	}
	cancelOne()
	if _, ok := <-one; ok {
		t.Error("channel open after cancel")
	}
	if n := len(m.hub.subs); n != 0 {
		t.Errorf("%d subscribers left", n)
	}
}
