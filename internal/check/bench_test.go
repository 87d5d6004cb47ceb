package check

import "testing"

func BenchmarkParseCondition(b *testing.B) {
	known := knownFor("http")
	for b.Loop() {
		if _, err := ParseCondition(`status == 200 && body.json.status == "ok" && duration < 300ms`, known); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalCondition(b *testing.B) {
	c, err := ParseCondition(`status == 200 && body.json.items[1].id == 8 && duration < 300ms`, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		env := testEnv() // fresh, so the body's JSON is parsed every time
		if ok, err := c.Eval(env); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
