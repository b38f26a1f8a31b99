#!/usr/bin/env bash
# EMR bootstrap action: install the s3pipe binaries on every node from an S3
# prefix that holds `make dist`'s output, after checking the tarball against
# SHA256SUMS. See docs/EMR.md.
#
#   --bootstrap-actions Path=s3://TOOLS/s3pipe/emr-bootstrap.sh,Args=[s3://TOOLS/s3pipe/v1.2.0/,v1.2.0]
#
# Args: PREFIX VERSION [DIR]
#   PREFIX   s3:// prefix holding s3pipe-VERSION-linux-ARCH.tar.gz and SHA256SUMS
#   VERSION  the version in the tarball's name
#   DIR      install directory (default /usr/local/bin)
#
# The node's instance role reads the prefix (the AWS CLI that EMR installs);
# no credentials are passed or stored. A sum that does not match fails the
# bootstrap action, and EMR then fails the node instead of running the
# wrong binaries.
set -euo pipefail

prefix="${1:?usage: emr-bootstrap.sh s3://PREFIX/ VERSION [DIR]}"
version="${2:?usage: emr-bootstrap.sh s3://PREFIX/ VERSION [DIR]}"
dir="${3:-/usr/local/bin}"
prefix="${prefix%/}"

case "$(uname -m)" in
x86_64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) echo "emr-bootstrap: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
name="s3pipe-$version-linux-$arch"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

aws s3 cp --only-show-errors "$prefix/SHA256SUMS" "$tmp/SHA256SUMS"
aws s3 cp --only-show-errors "$prefix/$name.tar.gz" "$tmp/$name.tar.gz"
# Check only our tarball's line; its absence is an error too.
grep -E "^[0-9a-f]{64}  $name\.tar\.gz\$" "$tmp/SHA256SUMS" >"$tmp/sum" ||
	{ echo "emr-bootstrap: $name.tar.gz is not in $prefix/SHA256SUMS" >&2; exit 1; }
(cd "$tmp" && sha256sum --check --strict --quiet sum) ||
	{ echo "emr-bootstrap: $name.tar.gz does not match its SHA256SUMS line" >&2; exit 1; }

tar -xzf "$tmp/$name.tar.gz" -C "$tmp"
sudo=()
((EUID == 0)) || sudo=(sudo)
"${sudo[@]}" mkdir -p "$dir"
for t in s3list s3diff s3mpplan s3copy s3mpdone; do
	[[ -f "$tmp/$name/$t" ]] || { echo "emr-bootstrap: $name.tar.gz lacks $t" >&2; exit 1; }
	"${sudo[@]}" install -m 0755 "$tmp/$name/$t" "$dir/$t"
done
"$dir/s3copy" --version
