#!/bin/sh
# The commands docs/nix.md shows, run in this directory; each writes the
# committed file after ">". test/cli-examples.test.ts runs every line with the
# built CLI and compares the output with the file byte for byte.
set -e
strata layer hello.attrs.json > store-layers.json
strata layer hello.attrs.json --strategy auto-layer --max-layers 4 > auto-layer.json
strata layer hello.attrs.json --strategy auto-layer --max-layers 4 --format nix2container > nix2container-layers.json
strata layer hello.attrs.json --strategy auto-layer --max-layers 4 --format pipeline > layering-pipeline.json
strata layer hello.attrs.json --pipeline layering-pipeline.json > from-pipeline.json
strata explain hello.attrs.json glibc --strategy auto-layer --max-layers 4 > explain-glibc.txt
