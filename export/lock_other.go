//go:build !unix

package export

import "context"

// lockFile does nothing where flock is unavailable: exports are then
// serialised only within one process (docs/export.md).
func lockFile(ctx context.Context, p string) (release func(), err error) {
	return func() {}, nil
}
