package alert

import (
	"context"
	"sync"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/store"
)

// Service is alerting in the server: the channels of every loaded suite
// file, the router and the worker.
type Service struct {
	Env    *Env
	Router *Router
	Worker *Worker

	mu    sync.Mutex
	files map[string]map[string]Sender
}

// NewService builds the router and the worker on st.
func NewService(st *store.Store, env *Env, w *Worker) *Service {
	if w == nil {
		w = &Worker{}
	}
	w.Store = st
	return &Service{Env: env, Router: &Router{}, Worker: w, files: map[string]map[string]Sender{}}
}

// Suite builds the channels of a suite file (monitor.Loader.OnSuite): a
// bad channel rejects the file. Channel names are shared by every file;
// a later file's channel of the same name replaces an earlier one's.
func (s *Service) Suite(file string, su *check.Suite) error {
	senders, err := BuildSuite(su, s.Env)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[file] = senders
	all := map[string]Sender{}
	for _, fs := range s.files {
		for name, snd := range fs {
			all[name] = snd
		}
	}
	s.Worker.SetSenders(all)
	return nil
}

// Run delivers until ctx ends.
func (s *Service) Run(ctx context.Context) { s.Worker.Run(ctx) }
