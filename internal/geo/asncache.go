package geo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The table built from an ASN CSV is cached beside it, so that the next
// process (a CLI run) reads the finished arrays instead of parsing the CSV
// again: tens of milliseconds instead of a third of a second. The cache is
// keyed by the CSV's size and modification time; any mismatch or damage
// means the CSV is parsed as before. A cache that cannot be written (a
// read-only data directory) is simply not used.

const asnCacheMagic = "dnsscience-asn-cache-v1\n"

// asnCachePath is where the cache of a CSV lives.
func asnCachePath(csv string) string {
	return filepath.Join(filepath.Dir(csv), "."+filepath.Base(csv)+".cache")
}

// loadASNCache returns the cached table of csv when the cache matches st.
func loadASNCache(csv string, st os.FileInfo) (*asnTable, error) {
	b, err := os.ReadFile(asnCachePath(csv))
	if err != nil {
		return nil, err
	}
	r := bytes.NewReader(b)
	head := make([]byte, len(asnCacheMagic))
	if _, err := io.ReadFull(r, head); err != nil || string(head) != asnCacheMagic {
		return nil, errors.New("not an ASN cache")
	}
	var hdr struct {
		Size, Mod               int64
		N4, N6, NNets, OrgBytes uint32
	}
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		return nil, err
	}
	if hdr.Size != st.Size() || hdr.Mod != st.ModTime().UnixNano() {
		return nil, errors.New("stale ASN cache")
	}
	want := int64(hdr.N4)*12 + int64(hdr.N6)*36 + int64(hdr.NNets)*12 + int64(hdr.OrgBytes)
	if int64(r.Len()) != want {
		return nil, fmt.Errorf("ASN cache holds %d bytes of rows, want %d", r.Len(), want)
	}
	t := &asnTable{
		v4start: make([]uint32, hdr.N4), v4end: make([]uint32, hdr.N4), v4net: make([]uint32, hdr.N4),
		v6net: make([]uint32, hdr.N6),
	}
	v6start, v6end := make([]uint64, 2*hdr.N6), make([]uint64, 2*hdr.N6)
	nets := make([]uint32, 3*hdr.NNets)
	for _, s := range []any{t.v4start, t.v4end, t.v4net, v6start, v6end, t.v6net, nets} {
		if err := binary.Read(r, binary.LittleEndian, s); err != nil {
			return nil, err
		}
	}
	t.v6start, t.v6end = unflat128(v6start), unflat128(v6end)
	t.nets = make([]asnNet, hdr.NNets)
	for i := range t.nets {
		t.nets[i] = asnNet{asn: nets[3*i], orgStart: nets[3*i+1], orgEnd: nets[3*i+2]}
	}
	orgs := make([]byte, hdr.OrgBytes)
	if _, err := io.ReadFull(r, orgs); err != nil {
		return nil, err
	}
	t.orgs = string(orgs)
	for i, n := range t.nets {
		if n.orgStart > n.orgEnd || n.orgEnd > hdr.OrgBytes {
			return nil, fmt.Errorf("ASN cache: organisation %d out of range", i)
		}
	}
	for _, idx := range [][]uint32{t.v4net, t.v6net} {
		for _, i := range idx {
			if i >= hdr.NNets {
				return nil, errors.New("ASN cache: row names a missing network")
			}
		}
	}
	t.v4idx, t.v6idx = sample(t.v4start), sample(t.v6start)
	return t, nil
}

// writeASNCache stores t as the cache of csv (temporary file, then rename).
func writeASNCache(csv string, st os.FileInfo, t *asnTable) error {
	var b bytes.Buffer
	b.WriteString(asnCacheMagic)
	hdr := struct {
		Size, Mod               int64
		N4, N6, NNets, OrgBytes uint32
	}{st.Size(), st.ModTime().UnixNano(), uint32(len(t.v4start)), uint32(len(t.v6start)), uint32(len(t.nets)), uint32(len(t.orgs))}
	nets := make([]uint32, 0, 3*len(t.nets))
	for _, n := range t.nets {
		nets = append(nets, n.asn, n.orgStart, n.orgEnd)
	}
	for _, v := range []any{hdr, t.v4start, t.v4end, t.v4net, flat128(t.v6start), flat128(t.v6end), t.v6net, nets} {
		if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
			return err
		}
	}
	b.WriteString(t.orgs)
	tmp, err := os.CreateTemp(filepath.Dir(csv), ".asn-cache-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), asnCachePath(csv))
}

func flat128(s []u128) []uint64 {
	out := make([]uint64, 0, 2*len(s))
	for _, v := range s {
		out = append(out, v.hi, v.lo)
	}
	return out
}

func unflat128(s []uint64) []u128 {
	out := make([]u128, len(s)/2)
	for i := range out {
		out[i] = u128{hi: s[2*i], lo: s[2*i+1]}
	}
	return out
}
