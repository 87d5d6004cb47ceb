package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// BenchmarkBackupRestore backs up 10,000 measurements from SQLite and
// restores them into each dialect; it reports rows restored per second.
func BenchmarkBackupRestore(b *testing.B) {
	const rows = 10000
	src := openStore(b, backends()[0].url(b))
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	result := json.RawMessage(`{"answers":["192.0.2.1","192.0.2.2"],"rtt_ms":12.5,"rcode":"NOERROR"}`)
	for i := range rows {
		m := &Measurement{Type: "dns", Target: fmt.Sprintf("h%d.example", i), Status: StatusFinished,
			Result: result, CreatedAt: start.Add(time.Duration(i) * time.Second)}
		if err := src.CreateMeasurement(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	var backup bytes.Buffer
	b.Run("backup/sqlite", func(b *testing.B) {
		for b.Loop() {
			backup.Reset()
			if err := src.Backup(ctx, &backup); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(backup.Len()), "bytes")
	})
	for _, be := range backends() {
		b.Run("restore/"+be.name, func(b *testing.B) {
			dst := openStore(b, be.url(b))
			for b.Loop() {
				if err := dst.Restore(ctx, bytes.NewReader(backup.Bytes())); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
