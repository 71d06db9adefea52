package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// envAliases are further variables read for a flag when its own SCRIBE_*
// variable is unset or empty, in order.
var envAliases = map[string][]string{
	"redis": {"SCRIBE_REDIS_URL"}, // the name the docs and older configs use
}

// envName is the variable that sets a flag: --data-dir is SCRIBE_DATA_DIR.
func envName(flagName string) string {
	return "SCRIBE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// flagsFromEnv is how every command reads the environment: after fs.Parse,
// each flag not given on the command line is set from its SCRIBE_*
// variable (or an alias in envAliases) when that is set and not empty. So a
// flag wins over the environment, which wins over the flag's default, and
// -h shows the real defaults, never a value (or secret) from the
// environment. Boolean flags also take yes/on and no/off. A value the flag
// refuses is an error that names the variable; all such errors are
// returned together.
func flagsFromEnv(fs *flag.FlagSet) error {
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		for _, key := range append([]string{envName(f.Name)}, envAliases[f.Name]...) {
			v := os.Getenv(key)
			if v == "" {
				continue
			}
			if isBoolFlag(f) {
				switch strings.ToLower(v) {
				case "yes", "on":
					v = "true"
				case "no", "off":
					v = "false"
				}
			}
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", key, v, err))
			}
			return
		}
	})
	return errors.Join(errs...)
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
