package runner

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/store"
)

// pgCluster is a private PostgreSQL server in a temporary directory on a
// free loopback port, which a test may stop and start.
type pgCluster struct {
	bin, dir string
	port     int
}

// startPostgres initdb's and starts a private cluster, removed when t ends.
func startPostgres(t *testing.T) *pgCluster {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the private PostgreSQL cluster runs as the postgres user (runuser)")
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("needs initdb and pg_ctl from the postgresql Debian package (/usr/lib/postgresql/*/bin)")
	}
	pg, err := user.Lookup("postgres")
	if err != nil {
		t.Skip("needs the postgres user of the postgresql Debian package")
	}
	dir, err := os.MkdirTemp("", "dnsscience-pg-")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{bin: filepath.Dir(bins[0]), dir: dir, port: ln.Addr().(*net.TCPAddr).Port}
	ln.Close()
	t.Cleanup(func() {
		_ = c.pgctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if out, err := c.run("initdb", "-D", c.data(), "-A", "trust", "-U", "postgres", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.start(t)
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

func (c *pgCluster) run(tool string, args ...string) ([]byte, error) {
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(c.bin, tool)}, args...)...)
	return cmd.CombinedOutput()
}

func (c *pgCluster) pgctl(args ...string) error {
	args = append([]string{"-D", c.data(), "-w", "-l", filepath.Join(c.dir, "log")}, args...)
	if args[len(args)-1] == "start" {
		args = append(args[:len(args)-1], "-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, c.dir), "start")
	}
	out, err := c.run("pg_ctl", args...)
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func (c *pgCluster) start(t *testing.T) {
	t.Helper()
	if err := c.pgctl("start"); err != nil {
		t.Fatal(err)
	}
}

func (c *pgCluster) stop(t *testing.T) {
	t.Helper()
	if err := c.pgctl("stop", "-m", "fast"); err != nil {
		t.Fatal(err)
	}
}

func (c *pgCluster) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// signalLog is a slog handler that sends each message to a channel.
type signalLog struct{ msgs chan string }

func (h signalLog) Enabled(context.Context, slog.Level) bool { return true }
func (h signalLog) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.msgs <- r.Message:
	default:
	}
	return nil
}
func (h signalLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalLog) WithGroup(string) slog.Handler      { return h }

// TestFinalWriteWaitsForPostgres: PostgreSQL stops while a measurement
// runs; the measurement ends meanwhile, its final write is retried (and
// nothing is streamed as final that is not stored) until PostgreSQL is
// back, then the row ends and the stream's last event is that state.
func TestFinalWriteWaitsForPostgres(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t)
	ctx := context.Background()
	st, err := store.Open(ctx, pg.url())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logs := signalLog{msgs: make(chan string, 64)}
	g := newGate()
	s := newService(t, st, g, Config{Log: slog.New(logs)})
	m, err := s.Create(ctx, dnsRequest("slow.example.test", "key:k1"))
	if err != nil {
		t.Fatal(err)
	}
	<-g.started
	_, events, cancel, live := s.Subscribe(m.ID)
	defer cancel()
	if !live {
		t.Fatal("no stream")
	}
	pg.stop(t)
	g.release()
	for msg := range logs.msgs {
		if strings.Contains(msg, "retrying") {
			break
		}
	}
	select {
	case ev, ok := <-events:
		if ok && ev.Type == "result" {
			t.Fatalf("result streamed while PostgreSQL is down: %s", ev.Data)
		}
	default:
	}
	pg.start(t)
	last := lastEvent(t, events)
	got, err := st.GetMeasurement(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusFinished || got.FinishedAt.IsZero() {
		t.Errorf("stored %s finished %v, want finished", got.Status, got.FinishedAt)
	}
	if last.Type != "result" || !strings.Contains(string(last.Data), `"status":"finished"`) {
		t.Errorf("last event %s %s, want the stored finished state", last.Type, last.Data)
	}
}
