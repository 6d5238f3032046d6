package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/telemetry"
)

func TestHandlerAddsTheContextsIDs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(telemetry.NewHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	ctx := telemetry.With(context.Background(), slog.String("request_id", "r1"), slog.String("tenant_id", "t1"))
	// A later value replaces an earlier one; an empty one is not carried.
	ctx = telemetry.With(ctx, slog.String("request_id", "r2"), slog.String("run_id", ""))
	log.InfoContext(ctx, "one", "tenant_id", "own")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["request_id"] != "r2" || rec["tenant_id"] != "own" || rec["component"] != "test" {
		t.Fatalf("record %v", rec)
	}
	if _, ok := rec["run_id"]; ok {
		t.Fatalf("an empty id was logged: %v", rec)
	}
	if got := telemetry.Value(ctx, "tenant_id"); got != "t1" {
		t.Fatalf("Value = %q", got)
	}
}

func TestExportingFollowsTheStandardVariables(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false},
		{map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, false},
	} {
		if got := telemetry.Exporting(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("Exporting(%v) = %v, want %v", c.env, got, c.want)
		}
	}
}

func TestNoExportWithoutConfiguration(t *testing.T) {
	tp, flush, err := telemetry.SetupTracing(context.Background(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("x").Start(context.Background(), "s")
	if span.SpanContext().IsValid() {
		t.Fatal("an unconfigured process records spans")
	}
	span.End()
	if err := flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestExportsOverOTLPWhenConfigured(t *testing.T) {
	got := make(chan string, 10)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type") + " " + strconv.Itoa(len(body))
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	// The exporter reads the variables itself, as it would in production.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	tp, flush, err := telemetry.SetupTracing(context.Background(), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("x").Start(context.Background(), "exported")
	span.End()
	if err := flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-got:
		if !strings.HasPrefix(req, "POST /v1/traces application/x-protobuf ") || strings.HasSuffix(req, " 0") {
			t.Fatalf("the collector got %q", req)
		}
	default:
		t.Fatal("nothing reached the collector by the end of the flush")
	}
}
