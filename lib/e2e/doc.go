// Package e2e holds the whole-pipeline tests: they build (or take from
// S3PIPE_BIN) the five binaries and the scripts, run them as processes
// connected by pipes against the local MinIO servers, and check the
// destination and the final report. It has no non-test code.
package e2e
