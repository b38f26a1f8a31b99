// Package fleet holds the tests of scripts/s3pipe-fleet, the GNU parallel
// driver that runs one partition's chain per job on a fleet of SSH hosts
// (docs/FLEET.md). The tests start their own sshd instances on loopback
// addresses (127.0.0.2, 127.0.0.3, 127.0.0.4) as stand-in hosts and sync
// between the two MinIO servers of lib/s3test. There is no Go API here.
package fleet
