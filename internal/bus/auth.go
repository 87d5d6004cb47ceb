package bus

import (
	"context"
	"crypto/subtle"
	"sync"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// authenticator admits the server itself (a random token made at start)
// and agents by their tokens, each with permissions to its own subjects.
type authenticator struct {
	store       Agents
	serverToken string
	server      *natsserver.Server

	mu    sync.Mutex
	conns map[string]map[uint64]bool // agent name → client ids
}

func newAuthenticator(st Agents, serverToken string) *authenticator {
	return &authenticator{store: st, serverToken: serverToken, conns: map[string]map[uint64]bool{}}
}

// Check implements natsserver.Authentication.
func (a *authenticator) Check(c natsserver.ClientAuthentication) bool {
	token := c.GetOpts().Token
	if token == "" {
		token = c.GetOpts().Password
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(a.serverToken)) == 1 {
		c.RegisterUser(&natsserver.User{Username: "dnsscience-server"})
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	agent, err := a.store.AuthenticateAgent(ctx, token)
	if err != nil {
		return false
	}
	c.RegisterUser(&natsserver.User{Username: agent.Name, Permissions: permissions(agent.Name)})
	a.mu.Lock()
	if a.conns[agent.Name] == nil {
		a.conns[agent.Name] = map[uint64]bool{}
	}
	a.conns[agent.Name][c.GetID()] = true
	a.mu.Unlock()
	return true
}

// clients returns (and forgets) the client ids an agent connected with.
func (a *authenticator) clients(name string) []uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ids []uint64
	for id := range a.conns[name] {
		ids = append(ids, id)
	}
	delete(a.conns, name)
	return ids
}

// permissions are an agent's: receive its own work, reply to it, publish
// its heartbeats and events.
func permissions(name string) *natsserver.Permissions {
	return &natsserver.Permissions{
		Publish:   &natsserver.SubjectPermission{Allow: []string{HeartbeatSubject(name), EventSubject(name, "*")}},
		Subscribe: &natsserver.SubjectPermission{Allow: []string{WorkSubject(name), CancelSubject(name)}},
		Response:  &natsserver.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
	}
}
