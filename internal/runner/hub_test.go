package runner

import (
	"sync"
	"testing"
)

func TestHubReplaysThenStreamsThenCloses(t *testing.T) {
	h := newHub(16, nil)
	h.open("m1")
	h.publish("m1", "hop", map[string]int{"ttl": 1})
	replay, sub, cancel, ok := h.subscribe("m1")
	defer cancel()
	if !ok || len(replay) != 1 || replay[0].Seq != 1 || replay[0].Type != "hop" {
		t.Fatalf("replay %+v ok=%v, want the first hop", replay, ok)
	}
	h.publish("m1", "hop", map[string]int{"ttl": 2})
	h.publish("m1", "result", "done")
	h.close("m1")
	var got []string
	for ev := range sub.ch {
		got = append(got, ev.Type+":"+string(ev.Data))
	}
	if len(got) != 2 || got[0] != `hop:{"ttl":2}` || got[1] != `result:"done"` {
		t.Errorf("streamed %v", got)
	}
	if _, _, _, ok := h.subscribe("m1"); ok {
		t.Error("subscribed to a closed measurement")
	}
}

func TestHubDropsSlowSubscribers(t *testing.T) {
	h := newHub(2, nil)
	h.open("m")
	_, slow, cancelSlow, _ := h.subscribe("m")
	defer cancelSlow()
	_, fast, cancelFast, _ := h.subscribe("m")
	defer cancelFast()
	var wg sync.WaitGroup
	wg.Add(1)
	n := 0
	go func() {
		defer wg.Done()
		for range fast.ch {
			n++
		}
	}()
	for i := range 100 {
		h.publish("m", "hop", i)
	}
	h.close("m")
	wg.Wait()
	if !slow.lagged {
		t.Error("a subscriber that never read was not dropped")
	}
	if n == 0 {
		t.Error("the reading subscriber got nothing")
	}
}
