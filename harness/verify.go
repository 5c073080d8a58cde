package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"flashbench/fileset"
)

// VerifyFiles fetches the first file of each class of m from base (e.g.
// http://127.0.0.1:8080) with a plain Go client and compares each body with
// the manifest's checksum. With checkBody false (the null server, which
// answers every request with the same canned body) only the status is
// checked.
func VerifyFiles(base string, m *fileset.Manifest, checkBody bool) error {
	return verifyFiles((&net.Dialer{}).DialContext, base, m, checkBody)
}

// verifyFiles is VerifyFiles with the connections made by dial.
func verifyFiles(dial func(ctx context.Context, network, addr string) (net.Conn, error), base string, m *fileset.Manifest, checkBody bool) error {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: dial}}
	defer client.CloseIdleConnections()
	seen := map[int]bool{}
	for i := range m.Files {
		f := &m.Files[i]
		if seen[f.Class] {
			continue
		}
		seen[f.Class] = true
		if err := verifyOne(client, base+f.URL(), f, checkBody); err != nil {
			return err
		}
	}
	return nil
}

func verifyOne(client *http.Client, url string, f *fileset.File, checkBody bool) error {
	resp, err := client.Get(url)
	if err != nil {
		return fmt.Errorf("verify %s: %w", f.URL(), err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return fmt.Errorf("verify %s: body: %w", f.URL(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("verify %s: got status %d, want 200", f.URL(), resp.StatusCode)
	}
	if !checkBody {
		return nil
	}
	if n != f.SizeBytes {
		return fmt.Errorf("verify %s: got %d body bytes, want %d", f.URL(), n, f.SizeBytes)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != f.SHA256 {
		return fmt.Errorf("verify %s: got sha256 %s, want %s", f.URL(), sum, f.SHA256)
	}
	return nil
}
