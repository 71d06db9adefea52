package main

import (
	"flag"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	for flagName, want := range map[string]string{
		"addr":                "SCRIBE_ADDR",
		"data-dir":            "SCRIBE_DATA_DIR",
		"export-author-email": "SCRIBE_EXPORT_AUTHOR_EMAIL",
	} {
		if got := envName(flagName); got != want {
			t.Errorf("envName(%q) = %q, want %q", flagName, got, want)
		}
	}
}

// flagsFromEnv: a flag on the command line wins over its variable, which
// wins over the default; an empty variable counts as unset.
func TestFlagsFromEnv(t *testing.T) {
	type config struct {
		name  string
		count int
		rate  float64
		on    bool
		wait  time.Duration
		redis string
	}
	newFlags := func() (*flag.FlagSet, *config) {
		c := &config{}
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.StringVar(&c.name, "name", "default", "")
		fs.IntVar(&c.count, "max-count", 1, "")
		fs.Float64Var(&c.rate, "rate", 0.5, "")
		fs.BoolVar(&c.on, "omit-url", false, "")
		fs.DurationVar(&c.wait, "wait", time.Second, "")
		fs.StringVar(&c.redis, "redis", "", "")
		return fs, c
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want config
	}{
		{"defaults", nil, nil, config{name: "default", count: 1, rate: 0.5, wait: time.Second}},
		{
			"every kind of flag from the environment",
			map[string]string{"SCRIBE_NAME": "env", "SCRIBE_MAX_COUNT": "7", "SCRIBE_RATE": "2.5", "SCRIBE_OMIT_URL": "true", "SCRIBE_WAIT": "3m", "SCRIBE_REDIS": "r:6379"},
			nil,
			config{name: "env", count: 7, rate: 2.5, on: true, wait: 3 * time.Minute, redis: "r:6379"},
		},
		{
			"command line wins",
			map[string]string{"SCRIBE_NAME": "env", "SCRIBE_MAX_COUNT": "7", "SCRIBE_OMIT_URL": "true"},
			[]string{"--name", "flag", "--omit-url=false"},
			config{name: "flag", count: 7, rate: 0.5, on: false, wait: time.Second},
		},
		{
			"a flag given with its default value still wins",
			map[string]string{"SCRIBE_NAME": "env"},
			[]string{"--name", "default"},
			config{name: "default", count: 1, rate: 0.5, wait: time.Second},
		},
		{
			"empty is unset",
			map[string]string{"SCRIBE_NAME": "", "SCRIBE_MAX_COUNT": ""},
			nil,
			config{name: "default", count: 1, rate: 0.5, wait: time.Second},
		},
		{"bool yes", map[string]string{"SCRIBE_OMIT_URL": "yes"}, nil, config{name: "default", count: 1, rate: 0.5, on: true, wait: time.Second}},
		{"bool ON", map[string]string{"SCRIBE_OMIT_URL": "ON"}, nil, config{name: "default", count: 1, rate: 0.5, on: true, wait: time.Second}},
		{"bool 1", map[string]string{"SCRIBE_OMIT_URL": "1"}, nil, config{name: "default", count: 1, rate: 0.5, on: true, wait: time.Second}},
		{"bool off", map[string]string{"SCRIBE_OMIT_URL": "off"}, []string{}, config{name: "default", count: 1, rate: 0.5, on: false, wait: time.Second}},
		{
			"alias when the own variable is unset",
			map[string]string{"SCRIBE_REDIS_URL": "alias:6379"},
			nil,
			config{name: "default", count: 1, rate: 0.5, wait: time.Second, redis: "alias:6379"},
		},
		{
			"own variable wins over the alias",
			map[string]string{"SCRIBE_REDIS": "own:6379", "SCRIBE_REDIS_URL": "alias:6379"},
			nil,
			config{name: "default", count: 1, rate: 0.5, wait: time.Second, redis: "own:6379"},
		},
	}
	all := []string{"SCRIBE_NAME", "SCRIBE_MAX_COUNT", "SCRIBE_RATE", "SCRIBE_OMIT_URL", "SCRIBE_WAIT", "SCRIBE_REDIS", "SCRIBE_REDIS_URL"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range all {
				t.Setenv(k, tt.env[k])
			}
			fs, c := newFlags()
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if err := flagsFromEnv(fs); err != nil {
				t.Fatal(err)
			}
			if *c != tt.want {
				t.Errorf("config = %+v, want %+v", *c, tt.want)
			}
		})
	}
}

// Every bad value is reported, each with its variable's name.
func TestFlagsFromEnvErrors(t *testing.T) {
	t.Setenv("SCRIBE_MAX_COUNT", "many")
	t.Setenv("SCRIBE_OMIT_URL", "perhaps")
	t.Setenv("SCRIBE_WAIT", "10")
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.Int("max-count", 1, "")
	fs.Bool("omit-url", false, "")
	fs.Duration("wait", time.Second, "")
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	err := flagsFromEnv(fs)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`SCRIBE_MAX_COUNT="many"`, `SCRIBE_OMIT_URL="perhaps"`, `SCRIBE_WAIT="10"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// Each command reads the same variables the same way: scribe bench (which
// read none before) refuses a bad SCRIBE_CLIENTS before it dials anything.
func TestBenchReadsEnv(t *testing.T) {
	t.Setenv("SCRIBE_CLIENTS", "lots")
	err := runBench(t.Context(), nil)
	if err == nil || !strings.Contains(err.Error(), "SCRIBE_CLIENTS") {
		t.Fatalf("runBench with SCRIBE_CLIENTS=lots: %v", err)
	}
}

func TestNotifyWebhooksFromFlagsAndEnv(t *testing.T) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fs, &c)
	if err := fs.Parse([]string{"--notify-webhook", "https://a.example/h1", "--notify-webhook", "https://b.example/h2"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.notifyWebhooks, " "); got != "https://a.example/h1 https://b.example/h2" {
		t.Errorf("flags gave %q", got)
	}
	var e serveConfig
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fs, &e)
	t.Setenv("SCRIBE_NOTIFY_WEBHOOK", "https://a.example/h1, https://b.example/h2")
	t.Setenv("SCRIBE_EXPORT_COMMIT_URL", "https://git.example.com/c/{sha}")
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := flagsFromEnv(fs); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.notifyWebhooks, " "); got != "https://a.example/h1 https://b.example/h2" || e.commitURL != "https://git.example.com/c/{sha}" {
		t.Errorf("env gave %q, %q", got, e.commitURL)
	}
}
