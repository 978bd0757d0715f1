import SNNTensor
import Foundation
import SNNAMX

/// Tile products an im2col product can skip because they multiply padding.
///
/// An output pixel on the border of a map reads some kernel taps outside the input: its
/// im2col row holds zeros there, and the products of those K tiles add exactly 0. A tile
/// of 16 rows can skip a K tile only when none of its rows has a tap of that tile inside,
/// so the rows are reordered: each pixel's images side by side, and the pixels grouped so
/// that a tile's pixels miss as many of the same taps as they can (`grouped`). On a 4x4
/// map with a 3x3 kernel (VGG-11's 128- and 256-channel layers, 16 images per product)
/// every tile is one pixel, and 31% of the products go; on 8x8 maps (4 images per
/// product, tiles of 4 pixels) 12%. The sums are the same integers, so results do not
/// change at all.
public struct PaddingSkip {
    /// Each pixel of the range's inside taps (bit = tap), by 0-based index.
    public let taps: [UInt64]

    /// For the output pixels `pixels` (row-major) of a `window` convolution over an input of
    /// `inputSize`: nil when no pixel misses a tap, or the kernel has more than 64 taps.
    public init?(window: WindowGeometry, inputSize: (h: Int, w: Int), pixels: Range<Int>) {
        let (kh, kw) = window.kernel
        guard kh * kw <= 64 else { return nil }
        let outW = window.outputWidth(inputSize.w)
        let all: UInt64 = kh * kw == 64 ? ~0 : (1 << UInt64(kh * kw)) - 1
        var taps = [UInt64](repeating: 0, count: pixels.count)
        for (j, p) in pixels.enumerated() {
            let (oh, ow) = (p / outW, p % outW)
            var mask: UInt64 = 0
            for ki in 0..<kh {
                for kj in 0..<kw where window.inputPixel(output: oh, ow, tap: ki, kj, inputSize: inputSize) != nil {
                    mask |= 1 << UInt64(ki * kw + kj)
                }
            }
            taps[j] = mask
        }
        guard taps.contains(where: { $0 != all }) else { return nil }
        self.taps = taps
    }

    /// The pixels in groups of `size` (one row tile's): a group starts with the pixels that
    /// have the fewest taps inside and fills up with those adding the fewest taps to it, so
    /// a 4x4 map's corners share no tile with its interior, and an 8x8 map's two bottom
    /// corners share one with two bottom-edge pixels (all miss the bottom kernel row).
    /// Deterministic: ties go to the smaller mask, then raster order.
    public func grouped(size: Int) -> [Int] {
        var classes = Dictionary(grouping: taps.indices) { taps[$0] }
        var order = [Int]()
        order.reserveCapacity(taps.count)
        while let start = classes.keys.min(by: { ($0.nonzeroBitCount, $0) < ($1.nonzeroBitCount, $1) }) {
            var mask: UInt64 = 0, room = size
            var key = start
            while true {
                var members = classes[key]!
                let taken = min(room, members.count)
                order += members.prefix(taken)
                members.removeFirst(taken)
                classes[key] = members.isEmpty ? nil : members
                mask |= key
                room -= taken
                guard room > 0, let next = classes.keys.min(by: { (($0 | mask).nonzeroBitCount, $0) < (($1 | mask).nonzeroBitCount, $1) })
                else { break }
                key = next
            }
        }
        return order
    }

    /// Per K tile of an im2col row (`tapBytes` per tap, `depth` bytes), the taps whose bytes
    /// it holds; nil above 64 taps.
    public static func kTileTaps(taps: Int, tapBytes: Int, depth: Int) -> [UInt64]? {
        guard taps <= 64 else { return nil }
        let used = taps * tapBytes
        return (0..<(depth / 64)).map { t in
            let first = 64 * t, last = min(64 * t + 64, used) - 1
            guard first <= last else { return 0 }
            var mask: UInt64 = 0
            for tap in (first / tapBytes)...(last / tapBytes) { mask |= 1 << UInt64(tap) }
            return mask
        }
    }

    /// The layout of one product of `images` images: im2col row of (image k, pixel j) at
    /// `rowOf[k * pixels + j]`, its output at `offsets[row]` (image k at k x `imageStride`,
    /// pixel j at j x `rowStride`), and per 16-row tile the taps its rows need.
    public struct Layout: Sendable {
        /// For each im2col row of the grouped layout, the output pixel it holds.
        public let rowOf: [Int32]
        /// Where each row tile's rows start.
        public let offsets: [Int]
        /// Per row tile, a bit per K tile that some row of it needs.
        public let rowTiles: [UInt64]
    }

    /// The grouped row order for `images` images side by side.
    public func layout(images: Int, imageStride: Int, rowStride: Int) -> Layout {
        let order = grouped(size: max(1, 16 / images))
        let pixels = order.count, rows = images * pixels
        var rowOf = [Int32](repeating: 0, count: rows)
        var offsets = [Int](repeating: 0, count: rows)
        var rowTiles = [UInt64](repeating: 0, count: (rows + 15) / 16)
        for (position, j) in order.enumerated() {
            for k in 0..<images {
                let row = position * images + k
                rowOf[k * pixels + j] = Int32(row)
                offsets[row] = k * imageStride + j * rowStride
                rowTiles[row / 16] |= taps[j]
            }
        }
        return Layout(rowOf: rowOf, offsets: offsets, rowTiles: rowTiles)
    }

    /// The share of a product's tile products `layout` skips: per row tile, the K tiles
    /// holding none of its taps.
    public static func skippedShare(_ layout: Layout, kTiles: [UInt64]) -> Double {
        let skipped = layout.rowTiles.reduce(0) { sum, need in sum + kTiles.reduce(0) { $0 + ($1 & need == 0 ? 1 : 0) } }
        return Double(skipped) / Double(max(1, layout.rowTiles.count * kTiles.count))
    }

    /// Layouts by product shape, built on first use and shared by the threads: building one
    /// costs about a fifth of a small product.
    final class Cache: @unchecked Sendable {
        struct Key: Hashable {
            let inputH: Int, inputW: Int, first: Int, end: Int, images: Int, imageStride: Int, rowStride: Int
        }
        private let lock = NSLock()
        private var layouts = [Key: Layout?]()

        /// The layout for this product, or nil where skipping would save under
        /// `minimumShare` of the tile products (the reordering is not free).
        func layout(window: WindowGeometry, kTiles: [UInt64], inputSize: (h: Int, w: Int), pixels: Range<Int>, images: Int,
                    imageStride: Int, rowStride: Int, minimumShare: Double = 0.03) -> Layout? {
            let key = Key(inputH: inputSize.h, inputW: inputSize.w, first: pixels.lowerBound, end: pixels.upperBound, images: images,
                          imageStride: imageStride, rowStride: rowStride)
            if let known = lock.withLock({ layouts[key] }) { return known }
            let built = PaddingSkip(window: window, inputSize: inputSize, pixels: pixels)
                .map { $0.layout(images: images, imageStride: imageStride, rowStride: rowStride) }
                .flatMap { PaddingSkip.skippedShare($0, kTiles: kTiles) >= minimumShare ? $0 : nil }
            lock.withLock { layouts[key] = built }
            return built
        }
    }
}

extension PaddingSkip.Layout {
    /// `body` given the C description, with `kTiles` from `PaddingSkip.kTileTaps`.
    func withTileTaps<R>(_ kTiles: [UInt64], _ body: (UnsafePointer<snn_tile_taps>) -> R) -> R {
        offsets.withUnsafeBufferPointer { o in
            rowTiles.withUnsafeBufferPointer { r in
                kTiles.withUnsafeBufferPointer { k in
                    var taps = snn_tile_taps(offsets: o.baseAddress, row_tiles: r.baseAddress, k_tiles: k.baseAddress)
                    return withUnsafePointer(to: &taps) { body($0) }
                }
            }
        }
    }
}
