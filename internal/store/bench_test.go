package store

import (
	"context"
	"encoding/json"
	"testing"
)

// BenchmarkMeasurementInsertGet creates a measurement and reads it back, per
// dialect (PostgreSQL when DNSSCIENCE_TEST_POSTGRES is set), serially and
// from parallel goroutines.
func BenchmarkMeasurementInsertGet(b *testing.B) {
	opts := json.RawMessage(`{"type":"AAAA","server":"192.0.2.53"}`)
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := openStore(b, be.url(b))
			ctx := context.Background()
			one := func() error {
				m := &Measurement{Type: "dns", Target: "www.example.com", Options: opts, Locations: []string{"local"}}
				if err := s.CreateMeasurement(ctx, m); err != nil {
					return err
				}
				_, err := s.GetMeasurement(ctx, m.ID)
				return err
			}
			b.Run("serial", func(b *testing.B) {
				for b.Loop() {
					if err := one(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := one(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}
