#!/bin/sh
# generate.sh: makes the test CA and the 127.0.0.1/localhost server certificate
#
# The files are committed, so nobody needs to run this; it documents how they
# were made and regenerates them if ever needed (e.g. a new key type). Keys
# are for tests only: they protect nothing.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
cd "$(dirname "$0")"

days=36500   # ~100 years, so the tests never start failing on a date

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout ca-key.pem -out ca.pem -days "$days" \
  -subj "/O=GoChat tests/CN=GoChat test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"

openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout server-key.pem -out server.csr \
  -subj "/O=GoChat tests/CN=localhost"

cat > server.ext <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EXT

openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
  -out server.pem -days "$days" -extfile server.ext

rm -f server.csr server.ext ca.srl
