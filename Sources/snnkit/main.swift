import SNNTensor
let peak = ArithmeticPeak.measureSingleCore()
print("peak", peak/1e9)
for (m,n,k) in [(64,3136,576),(256,196,2304),(512,64,4608),(1024,1024,1024)] {
  let a = (0..<m*k).map{ _ in Float.random(in: -1...1)}
  let b = (0..<k*n).map{ _ in Float.random(in: -1...1)}
  var c = [Float](repeating: 0, count: m*n)
  let pa = a.withUnsafeBufferPointer { PackedLHS(rows: m, depth: k, source: $0.baseAddress!, rowStride: k, depthStride: 1) }
  let pb = b.withUnsafeBufferPointer { PackedRHS(depth: k, columns: n, source: $0.baseAddress!, depthStride: n, columnStride: 1) }
  for threads in [1,2] {
    Parallel.threads = threads
    let clock = ContinuousClock()
    var best = 1e9
    for _ in 0..<5 {
      let t = clock.now
      c.withUnsafeMutableBufferPointer { GEMM.multiply(lhs: pa, rhs: pb, c: $0.baseAddress!, ldc: n) }
      let e = clock.now - t
      best = min(best, Double(e.components.attoseconds)*1e-18 + Double(e.components.seconds))
    }
    print(m,n,k,"threads",threads, 2.0*Double(m*n*k)/best/1e9, "GFLOP/s")
  }
  if m == 64 { let r = GEMM.reference(m: m, n: n, k: k, a: a, b: b); var e: Float = 0; for i in 0..<m*n { e = max(e, abs(r[i]-c[i])) }; print("maxerr", e) }
}
