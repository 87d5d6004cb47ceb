package check

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnstest"
)

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

// BenchmarkRunOne is one monitor run of a check through the registry:
// prepare, measure against a loopback target, evaluate its conditions.
// The targets run in this process, so read a CPU profile focused on
// RunOne (-cpuprofile, pprof -focus RunOne) for the runner's own share.
func BenchmarkRunOne(b *testing.B) {
	dnsAddr := dnstest.Start(b, dnstest.NewZone(b, "example.test.", zoneText)).Addr
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	defer web.Close()
	suite := fmt.Sprintf(`checks:
  - {name: dns, kind: dns, target: api.example.test, options: {server: '%s'}}
  - {name: http, kind: http, target: '%s/health', conditions: [status == 200]}
`, dnsAddr, web.URL)
	s, err := Parse("bench.yaml", []byte(suite), nil)
	if err != nil {
		b.Fatal(err)
	}
	r := &Runner{}
	for _, c := range s.Checks {
		b.Run(c.Kind, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := r.RunOne(context.Background(), c); !res.Pass {
					b.Fatalf("%s failed: %s %v", c.Name, res.Error, res.Failed)
				}
			}
		})
	}
}
