import json, collections
key = json.load(open('evals/grading/2026-12-01-key.json'))
items = {json.loads(l)['id']: json.loads(l) for l in open('evals/client.jsonl') if l.strip() and not l.startswith('//')}
grades = [json.loads(l) for l in open('evals/grading/2026-12-01-grades.jsonl') if l.strip()]
by = collections.defaultdict(list)
for g in grades:
    version = key[g['id']][g['answer']]
    by[version].append(g)
dims = ["relevance", "actionability", "faithfulness", "completeness", "language_fit"]
def mean(xs):
    xs = [x for x in xs if x is not None]
    return f"{sum(xs)/len(xs):.2f}" if xs else "—"
def usable(gs): return f"{sum(bool(g['usable']) for g in gs)/len(gs):.2f} ({sum(bool(g['usable']) for g in gs)}/{len(gs)})" if gs else "—"
lines = ["| version | usable | " + " | ".join(dims).replace("_", " ") + " | usable zh | usable en | advice | diagnosis | comparison | case |", "|---|" + "---|" * (len(dims) + 7)]
for v in ("before", "after"):
    gs = by[v]
    cells = [usable(gs)] + [mean([g.get(d) for g in gs]) for d in dims]
    cells += [usable([g for g in gs if items[g['id']]['lang'] == l]) for l in ("zh", "en")]
    cells += [usable([g for g in gs if items[g['id']]['type'] == t]) for t in ("advice", "diagnosis", "comparison", "case")]
    lines.append(f"| {v} | " + " | ".join(cells) + " |")
print("\n".join(lines))
