package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestAgentFlagsRefusedWithReasons(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"agent", "--token", "dsa_x_" + strings.Repeat("a", 30)}, "--server is required"},
		{[]string{"agent", "--server", "http://127.0.0.1:1"}, "--token (or DNSSCIENCE_AGENT_TOKEN) is required"},
		{[]string{"agent", "--server", "http://127.0.0.1:1", "--token", "t", "--lat", "1"}, "--lat and --lon go together"},
		{[]string{"agent", "--server", "http://127.0.0.1:1", "--token", "t", "--lat", "91", "--lon", "0"}, "want a latitude in [-90, 90]"},
		{[]string{"agent", "--server", "http://127.0.0.1:1", "--token", "t", "--allow", "10.0.0.0"}, `--allow "10.0.0.0": want a CIDR`},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q (stdout %q); want exit %d saying %q", tc.args, code, errOut, out, ExitUsage, tc.want)
		}
	}
}

func TestAgentsAddListRevoke(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	code, token, errOut := run(t, "agents", "add", "oslo", "--data", data)
	if code != 0 || !strings.HasPrefix(token, "dsa_oslo_") {
		t.Fatalf("agents add: exit %d, stdout %q, stderr %q", code, token, errOut)
	}
	if code, _, errOut := run(t, "agents", "add", "Oslo!", "--data", data); code != ExitUsage || !strings.Contains(errOut, "lowercase letters") {
		t.Errorf("agents add with a bad name: exit %d, %q", code, errOut)
	}
	if code, out, _ := run(t, "agents", "list", "--data", data); code != 0 || !strings.Contains(out, "oslo") {
		t.Errorf("agents list: exit %d, %q", code, out)
	}
	if code, out, _ := run(t, "agents", "revoke", "oslo", "--data", data); code != 0 || !strings.Contains(out, "revoked agent oslo") {
		t.Errorf("agents revoke: exit %d, %q", code, out)
	}
	if code, _, errOut := run(t, "agents", "revoke", "nobody", "--data", data); code != ExitFailure || !strings.Contains(errOut, `no agent named "nobody"`) {
		t.Errorf("agents revoke unknown: exit %d, %q", code, errOut)
	}
}
