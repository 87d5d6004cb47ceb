package store

import (
	"bufio"
	"compress/gzip"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The backup format: gzip-compressed JSON Lines. The first line is a
// BackupInfo header naming the format, its version and the columns of each
// table; then one line per row, {"table": T, "row": [values in the header's
// column order]}; the last line is {"end": true, "counts": {table: rows}}, so a
// truncated file is detected. Values are JSON strings, integers (times are
// Unix microseconds), booleans or null, the same for either dialect.
const (
	BackupFormat  = "dnsscience-backup"
	BackupVersion = 1
)

// ErrBadBackup: the backup is not one this binary can restore (not a backup,
// truncated, a newer version, or inconsistent).
var ErrBadBackup = errors.New("bad backup")

// BackupInfo is a backup's header and, once read to its end, its row counts.
type BackupInfo struct {
	Format        string              `json:"format"`
	Version       int                 `json:"version"`
	SchemaVersion int                 `json:"schema_version"`
	Dialect       string              `json:"dialect"`
	CreatedAt     time.Time           `json:"created_at"`
	Tables        map[string][]string `json:"tables"`
	Counts        map[string]int64    `json:"counts,omitempty"`
}

type colKind int

const (
	colText colKind = iota
	colInt
	colBool
)

type column struct {
	name     string
	kind     colKind
	nullable bool
	// check, when set, validates a non-null value beyond its type.
	check func(any) error
}

// checkJSON accepts a JSON document.
func checkJSON(v any) error {
	if !json.Valid([]byte(v.(string))) {
		return errors.New("not valid JSON")
	}
	return nil
}

// checkLocations accepts a JSON array of strings.
func checkLocations(v any) error {
	var l []string
	if err := json.Unmarshal([]byte(v.(string)), &l); err != nil {
		return errors.New("not a JSON array of strings")
	}
	return nil
}

// checkStatus accepts a measurement status.
func checkStatus(v any) error {
	if !validStatus(v.(string)) {
		return fmt.Errorf("status %q: want queued, running, finished or failed", v)
	}
	return nil
}

type table struct {
	name string
	cols []column
	// order is the ORDER BY of a dump (a key, so dumps are stable); "id"
	// when empty.
	order string
}

// backupTables are the tables a backup holds, in restore order.
var backupTables = []table{
	{"api_keys", []column{{"id", colText, false, nil}, {"name", colText, false, nil},
		{"prefix", colText, false, nil}, {"hash", colText, false, nil}, {"admin", colBool, false, nil},
		{"created_at", colInt, false, nil}, {"last_used_at", colInt, true, nil}, {"revoked_at", colInt, true, nil}}, ""},
	{"measurements", []column{{"id", colText, false, nil}, {"type", colText, false, nil},
		{"target", colText, false, nil}, {"options", colText, true, checkJSON},
		{"locations", colText, true, checkLocations}, {"status", colText, false, checkStatus},
		{"error", colText, false, nil}, {"result", colText, true, checkJSON}, {"client_id", colText, false, nil},
		{"created_at", colInt, false, nil}, {"started_at", colInt, true, nil}, {"finished_at", colInt, true, nil}}, ""},
	{"monitor_api_checks", []column{{"id", colText, false, nil}, {"body", colText, false, checkJSON},
		{"created_at", colInt, false, nil}, {"updated_at", colInt, false, nil}}, ""},
	{"monitor_states", []column{{"check_id", colText, false, nil}, {"location", colText, false, nil},
		{"status", colText, false, nil}, {"health", colText, false, nil}, {"fails", colInt, false, nil}, {"oks", colInt, false, nil},
		{"since", colInt, false, nil}, {"last_run", colInt, true, nil}, {"last", colText, true, checkJSON}}, "check_id, location"},
	{"monitor_transitions", []column{{"check_id", colText, false, nil}, {"location", colText, false, nil},
		{"at", colInt, false, nil}, {"from_status", colText, false, nil}, {"to_status", colText, false, nil},
		{"reason", colText, false, nil}}, "check_id, at, location"},
	{"monitor_results", []column{{"check_id", colText, false, nil}, {"location", colText, false, nil},
		{"at", colInt, false, nil}, {"outcome", colText, false, nil}, {"duration_us", colInt, false, nil}, {"lag_us", colInt, false, nil},
		{"error", colText, false, nil}, {"evidence", colText, true, checkJSON}}, "check_id, at, location"},
	{"monitor_rollups", rollupBackupColumns(), "check_id, location, level, bucket"},
}

// rollupBackupColumns are monitor_rollups' columns (rollupColumns).
func rollupBackupColumns() []column {
	var out []column
	for i, name := range strings.Split(rollupColumns, ", ") {
		kind := colInt
		if i < 3 { // check_id, location, level
			kind = colText
		}
		out = append(out, column{name, kind, false, nil})
	}
	return out
}

func (t table) colNames() []string {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = c.name
	}
	return names
}

type backupLine struct {
	Table  string           `json:"table,omitempty"`
	Row    []any            `json:"row,omitempty"`
	End    bool             `json:"end,omitempty"`
	Counts map[string]int64 `json:"counts,omitempty"`
}

// Backup writes a consistent copy of the store to w while it stays in use:
// every table is read inside one read-only transaction (REPEATABLE READ on
// PostgreSQL, a WAL snapshot on SQLite).
func (s *Store) Backup(ctx context.Context, w io.Writer) error {
	defer s.observe("backup", time.Now())
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect == DialectPostgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.r.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("backing up: %w", err)
	}
	defer tx.Rollback()
	version, err := schemaVersion(ctx, tx)
	if err != nil {
		return fmt.Errorf("backing up: %w", err)
	}
	info := BackupInfo{Format: BackupFormat, Version: BackupVersion, SchemaVersion: version,
		Dialect: s.dialect, CreatedAt: now(), Tables: map[string][]string{}}
	for _, t := range backupTables {
		info.Tables[t.name] = t.colNames()
	}
	zw := gzip.NewWriter(w)
	bw := bufio.NewWriterSize(zw, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(info); err != nil {
		return fmt.Errorf("backing up: %w", err)
	}
	counts := map[string]int64{}
	for _, t := range backupTables {
		n, err := dumpTable(ctx, tx, t, enc)
		if err != nil {
			return fmt.Errorf("backing up %s: %w", t.name, err)
		}
		counts[t.name] = n
	}
	if err := enc.Encode(backupLine{End: true, Counts: counts}); err != nil {
		return fmt.Errorf("backing up: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("backing up: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("backing up: %w", err)
	}
	return nil
}

// dumpTable writes every row of t as a line and returns how many.
func dumpTable(ctx context.Context, tx *sql.Tx, t table, enc *json.Encoder) (int64, error) {
	order := t.order
	if order == "" {
		order = "id"
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+strings.Join(t.colNames(), ", ")+" FROM "+t.name+" ORDER BY "+order)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	holders := make([]any, len(t.cols))
	var n int64
	for rows.Next() {
		for i, c := range t.cols {
			switch c.kind {
			case colText:
				holders[i] = new(sql.NullString)
			case colInt:
				holders[i] = new(sql.NullInt64)
			case colBool:
				holders[i] = new(sql.NullBool)
			}
		}
		if err := rows.Scan(holders...); err != nil {
			return n, err
		}
		row := make([]any, len(holders))
		for i, h := range holders {
			row[i], _ = h.(driver.Valuer).Value()
		}
		if err := enc.Encode(backupLine{Table: t.name, Row: row}); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// backupReader reads a backup line by line, checking it as it goes.
type backupReader struct {
	dec    *json.Decoder
	info   BackupInfo
	tables map[string]table // the backup's columns, by table name
	counts map[string]int64
}

func newBackupReader(r io.Reader) (*backupReader, io.Closer, error) {
	zr, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: not a gzip-compressed dnsscience backup: %v", ErrBadBackup, err)
	}
	br := &backupReader{dec: json.NewDecoder(zr), tables: map[string]table{}, counts: map[string]int64{}}
	br.dec.UseNumber()
	if err := br.dec.Decode(&br.info); err != nil {
		zr.Close()
		return nil, nil, fmt.Errorf("%w: reading the header: %v", ErrBadBackup, err)
	}
	if err := br.checkHeader(); err != nil {
		zr.Close()
		return nil, nil, err
	}
	return br, zr, nil
}

// checkHeader accepts the header if this binary knows its format version and
// every table and column it names.
func (br *backupReader) checkHeader() error {
	i := br.info
	if i.Format != BackupFormat {
		return fmt.Errorf("%w: format %q, want %q", ErrBadBackup, i.Format, BackupFormat)
	}
	if i.Version < 1 || i.Version > BackupVersion {
		return fmt.Errorf("%w: format version %d; this binary reads version %d", ErrBadBackup, i.Version, BackupVersion)
	}
	for name, cols := range i.Tables {
		idx := slices.IndexFunc(backupTables, func(t table) bool { return t.name == name })
		if idx < 0 {
			return fmt.Errorf("%w: unknown table %q (a backup from a newer schema?)", ErrBadBackup, name)
		}
		if len(cols) == 0 {
			return fmt.Errorf("%w: table %s has no columns", ErrBadBackup, name)
		}
		t := table{name: name}
		for k, c := range cols {
			if slices.Contains(cols[:k], c) {
				return fmt.Errorf("%w: column %s.%s named twice", ErrBadBackup, name, c)
			}
			j := slices.IndexFunc(backupTables[idx].cols, func(k column) bool { return k.name == c })
			if j < 0 {
				return fmt.Errorf("%w: unknown column %s.%s (a backup from a newer schema?)", ErrBadBackup, name, c)
			}
			t.cols = append(t.cols, backupTables[idx].cols[j])
		}
		br.tables[name] = t
		br.counts[name] = 0
	}
	return nil
}

// next returns the next row's table and values, or io.EOF after the end line
// once the counts it states were checked.
func (br *backupReader) next() (table, []any, error) {
	var l backupLine
	if err := br.dec.Decode(&l); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return table{}, nil, fmt.Errorf("%w: truncated (no end line)", ErrBadBackup)
		}
		return table{}, nil, fmt.Errorf("%w: %v", ErrBadBackup, err)
	}
	if l.End {
		for name := range br.tables {
			if l.Counts[name] != br.counts[name] {
				return table{}, nil, fmt.Errorf("%w: %s has %d rows, the end line says %d", ErrBadBackup, name, br.counts[name], l.Counts[name])
			}
		}
		br.info.Counts = br.counts
		return table{}, nil, io.EOF
	}
	t, ok := br.tables[l.Table]
	if !ok {
		return table{}, nil, fmt.Errorf("%w: a row for table %q, not in the header", ErrBadBackup, l.Table)
	}
	vals, err := rowValues(t, l.Row)
	if err != nil {
		return table{}, nil, fmt.Errorf("%w: %s row %d: %v", ErrBadBackup, t.name, br.counts[t.name]+1, err)
	}
	br.counts[t.name]++
	return t, vals, nil
}

// rowValues converts decoded JSON values to column values, checking types.
func rowValues(t table, row []any) ([]any, error) {
	if len(row) != len(t.cols) {
		return nil, fmt.Errorf("%d values for %d columns", len(row), len(t.cols))
	}
	out := make([]any, len(row))
	for i, c := range t.cols {
		v, err := columnValue(c, row[i])
		if err == nil && v != nil && c.check != nil {
			err = c.check(v)
		}
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
		out[i] = v
	}
	return out, nil
}

func columnValue(c column, v any) (any, error) {
	if v == nil {
		if !c.nullable {
			return nil, errors.New("null in a column that requires a value")
		}
		return nil, nil
	}
	switch c.kind {
	case colText:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case colInt:
		if n, ok := v.(json.Number); ok {
			return n.Int64()
		}
	case colBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	}
	return nil, fmt.Errorf("unexpected value %v (%T)", v, v)
}

// insertSQL returns the INSERT of one row of t (its columns, checked against
// backupTables, are never empty).
func insertSQL(t table) string {
	names := t.colNames()
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ")
	return "INSERT INTO " + t.name + " (" + strings.Join(names, ", ") + ") VALUES (" + marks + ")"
}

// ReadBackupInfo reads a whole backup, checks it, and returns its header
// with the row count of every table.
func ReadBackupInfo(r io.Reader) (BackupInfo, error) {
	br, closer, err := newBackupReader(r)
	if err != nil {
		return BackupInfo{}, err
	}
	defer closer.Close()
	for {
		if _, _, err := br.next(); errors.Is(err, io.EOF) {
			return br.info, nil
		} else if err != nil {
			return BackupInfo{}, err
		}
	}
}

// Restore replaces the store's contents with the backup read from r, in one
// transaction: on any error (a bad or truncated backup included) the store is
// left as it was. A backup restores into either dialect.
func (s *Store) Restore(ctx context.Context, r io.Reader) error {
	defer s.observe("restore", time.Now())
	br, closer, err := newBackupReader(r)
	if err != nil {
		return fmt.Errorf("restoring: %w", err)
	}
	defer closer.Close()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("restoring: %w", err)
	}
	defer tx.Rollback()
	for _, t := range slices.Backward(backupTables) {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t.name); err != nil {
			return fmt.Errorf("restoring: emptying %s: %w", t.name, err)
		}
	}
	stmts := map[string]*sql.Stmt{}
	for name, t := range br.tables {
		stmt, err := tx.PrepareContext(ctx, s.q(insertSQL(t)))
		if err != nil {
			return fmt.Errorf("restoring %s: %w", name, err)
		}
		defer stmt.Close()
		stmts[name] = stmt
	}
	for {
		t, vals, err := br.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("restoring: %w", err)
		}
		if _, err := stmts[t.name].ExecContext(ctx, vals...); err != nil {
			return fmt.Errorf("restoring %s row %d: %w", t.name, br.counts[t.name], err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("restoring: %w", err)
	}
	return nil
}
