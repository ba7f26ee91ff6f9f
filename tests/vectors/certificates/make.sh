#!/usr/bin/env bash
# Regenerates the certificates in this directory (OpenSSL 3). The leaf
# certifies the key in ../import/ec-pkcs8.pem, so tests can sign with it.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
ca() { # name subject [issuer-name]
  openssl ecparam -name prime256v1 -genkey -noout -out "$work/$1.key"
  printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' > "$work/$1.ext"
  if [ $# -eq 2 ]; then
    openssl req -new -x509 -key "$work/$1.key" -subj "$2" -days 36500 -set_serial 1 \
      -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign \
      -out "$1.pem"
  else
    openssl req -new -key "$work/$1.key" -subj "$2" -out "$work/$1.csr"
    openssl x509 -req -in "$work/$1.csr" -CA "$3.pem" -CAkey "$work/$3.key" -set_serial 2 \
      -days 36500 -extfile "$work/$1.ext" -out "$1.pem"
  fi
}
leaf() { # out eku
  openssl req -new -key ../import/ec-pkcs8.pem -subj "/CN=signet test signer" -out "$work/leaf.csr"
  printf 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=email:signer@example.test\n' "$2" > "$work/leaf.ext"
  openssl x509 -req -in "$work/leaf.csr" -CA intermediate.pem -CAkey "$work/intermediate.key" \
    -set_serial 3 -days 36500 -extfile "$work/leaf.ext" -out "$1"
}
ca root "/CN=signet test root CA"
ca intermediate "/CN=signet test intermediate CA" root
leaf leaf.crt.pem codeSigning
leaf leaf-no-codesigning.crt.pem serverAuth
cat intermediate.pem root.pem > chain.pem
ca other-ca "/CN=another root CA"
openssl x509 -in leaf.crt.pem -outform DER -out leaf.crt.der
openssl pkey -in ../import/ec-pkcs8.pem -pubout -out leaf.pub
rm -f root.pem intermediate.pem
