#!/bin/sh
# generate-renewed.sh: makes server-renewed.pem, a second server certificate
# from the same test CA (same names, its own key), for the test of SIGHUP
# reloading a renewed certificate (tests/test-server-reload.c).
#
# The files are committed; this documents how they were made (Debian 12,
# OpenSSL 3.0). Keys are for tests only: they protect nothing.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
cd "$(dirname "$0")"

days=36500

openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout server-renewed-key.pem -out server-renewed.csr \
  -subj "/O=GoChat tests/OU=renewed/CN=localhost"

cat > server-renewed.ext <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EXT

openssl x509 -req -in server-renewed.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
  -out server-renewed.pem -days "$days" -extfile server-renewed.ext

rm -f server-renewed.csr server-renewed.ext ca.srl
