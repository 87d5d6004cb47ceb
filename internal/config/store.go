package config

import "github.com/dnsscience/dnsscience/internal/store"

// StoreKeys are the settings of the commands that open the store without
// serving (backup, restore, apikey).
var StoreKeys = []string{"db", "data"}

// StoreURL is the store every command opens: the db or data setting of the
// highest layer that gives either (flags > environment > file), db winning
// over data in the same layer; else the SQLite file in the default data
// directory. So `--data DIR` wins over $DNSSCIENCE_DB, and $DNSSCIENCE_DATA
// over db in the file.
func (s *Server) StoreURL() string {
	db, data := s.origin["db"], s.origin["data"]
	if s.DB != "" && db.layer >= data.layer {
		return s.DB
	}
	return store.SQLiteURL(s.Data)
}
