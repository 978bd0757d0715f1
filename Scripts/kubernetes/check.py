#!/usr/bin/env python3
"""Parses the Kubernetes manifests beside this file and checks that they fit together:
an Indexed Job whose pods each run one part of `completions` parts, and a merge Job that
reads exactly those part files. Needs PyYAML."""
import pathlib
import re
import sys

import yaml

here = pathlib.Path(__file__).resolve().parent
parts = yaml.safe_load((here / "parts-job.yaml").read_text())
merge = yaml.safe_load((here / "merge-job.yaml").read_text())
problems = []
for doc, name in ((parts, "parts-job.yaml"), (merge, "merge-job.yaml")):
    if doc.get("apiVersion") != "batch/v1" or doc.get("kind") != "Job":
        problems.append(f"{name}: not a batch/v1 Job")
spec = parts["spec"]
n = spec.get("completions")
if spec.get("completionMode") != "Indexed":
    problems.append("parts-job.yaml: completionMode must be Indexed (JOB_COMPLETION_INDEX is the part)")
if not isinstance(n, int) or n < 1 or not 1 <= spec.get("parallelism", 0) <= n:
    problems.append("parts-job.yaml: completions must be the number of parts, parallelism 1..completions")
command = " ".join(parts["spec"]["template"]["spec"]["containers"][0]["command"])
if f'--part "$JOB_COMPLETION_INDEX/{n}"' not in command:
    problems.append(f"parts-job.yaml: the command must pass --part $JOB_COMPLETION_INDEX/{n}")
written = re.search(r'--part-file "([^"]*)"', command)
merged = " ".join(merge["spec"]["template"]["spec"]["containers"][0]["command"])
if not written:
    problems.append("parts-job.yaml: no --part-file")
else:
    expected = [written.group(1).replace("$JOB_COMPLETION_INDEX", str(k)) for k in range(n)]
    if re.findall(r"(\S+\.json)", merged.split("merge", 1)[1]) != expected:
        problems.append(f"merge-job.yaml: must merge exactly {expected}")
if problems:
    sys.exit("\n".join(problems))
print(f"Kubernetes manifests: an Indexed Job of {n} parts and a merge of the same {n} files")
