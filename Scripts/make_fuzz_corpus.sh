#!/usr/bin/env bash
# Writes the fuzzers' seed corpora, Fuzz/Corpus/<target>/, from the test fixtures (which
# the other Scripts make): small valid files of each format and some damaged ones, so the
# fuzzer starts from inputs that reach deep into each reader. The part-file seeds are
# made by running snnkit on the end-to-end fixture.
#
#   Scripts/make_fuzz_corpus.sh [SNNKIT_BINARY]     (default .build/release/snnkit)
set -euo pipefail
cd "$(dirname "$0")/.."
snnkit=${1:-.build/release/snnkit}
out=Fuzz/Corpus
rm -rf "$out"
mkdir -p "$out"/{onnx,converted-model,npy,npz,idx,cifar,part-file}
fixtures=Tests/Fixtures
# ONNX: the operator fixtures of at most 4 KB (one per operator and attribute form) and
# the small whole networks.
for f in "$fixtures"/onnx/*/model.onnx; do
    name=$(basename "$(dirname "$f")")
    if [ "$(stat -c %s "$f")" -le 4096 ] || [[ $name == net_* && $(stat -c %s "$f") -le 50000 ]]; then cp "$f" "$out/onnx/$name.onnx"; fi
done
cp "$fixtures"/conversion/*.snn.onnx "$out/converted-model/"
"$snnkit" convert "$fixtures/conversion/net_c_vgg.snn.onnx" --weight-bits 4 --scale-granularity layer \
    -o "$out/converted-model/net_c_vgg.w4.snn.onnx" --quiet > /dev/null
for f in "$fixtures"/data/*.npy "$fixtures"/data/bad/*.npy; do cp "$f" "$out/npy/$(basename "$f")"; done
for f in "$fixtures"/data/*.npz "$fixtures"/data/bad/*.npz "$fixtures"/e2e/vgg_data.npz; do cp "$f" "$out/npz/$(basename "$f")"; done
for f in "$fixtures"/data/*idx3* "$fixtures"/data/bad/*idx3*; do cp "$f" "$out/idx/$(basename "$f")"; done
cp "$fixtures"/data/cifar10/*.bin "$out/cifar/"
for f in "$fixtures"/data/bad/cifar_*/*; do cp "$f" "$out/cifar/$(basename "$(dirname "$f")")-$(basename "$f")"; done
# Part files: a whole run as its only part (merged as it is) with an integer form beside
# it, and one part of two (refused alone: the other is missing).
"$snnkit" simulate "$fixtures/conversion/net_c_vgg.snn.onnx" --data "$fixtures/e2e/vgg_data.npz" -T 4 --batch-size 8 \
    --compare-bits 4 --part 0/1 --part-file "$out/part-file/whole.json" --quiet > /dev/null
"$snnkit" simulate "$fixtures/conversion/net_c_vgg.snn.onnx" --data "$fixtures/e2e/vgg_data.npz" -T 4 --batch-size 8 \
    --part 1/2 --part-file "$out/part-file/half.json" --quiet > /dev/null
echo "seed corpora in $out: $(for d in "$out"/*; do echo -n "$(basename "$d") $(ls "$d" | wc -l), "; done)"
