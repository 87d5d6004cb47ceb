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
// bad channel rejects the file. Channel names are shared by every file, so
// a file naming a channel another loaded file defines is rejected too
// (which one was meant would be a guess).
func (s *Service) Suite(file string, su *check.Suite) error {
	senders, err := BuildSuite(su, s.Env)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range su.Channels {
		for other, fs := range s.files {
			if _, taken := fs[c.Name]; taken && other != file {
				return c.Errorf("name", "channel %q is already defined in %s; channel names are shared by every suite file, so give this one another name", c.Name, other)
			}
		}
	}
	s.files[file] = senders
	s.publish()
	return nil
}

// Remove drops the channels of a suite file that is gone
// (monitor.Loader.OnGone).
func (s *Service) Remove(file string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.files, file)
	s.publish()
}

// publish gives the worker every file's channels; s.mu is held.
func (s *Service) publish() {
	all := map[string]Sender{}
	for _, fs := range s.files {
		for name, snd := range fs {
			all[name] = snd
		}
	}
	s.Worker.SetSenders(all)
}

// Run delivers until ctx ends.
func (s *Service) Run(ctx context.Context) { s.Worker.Run(ctx) }
