//! The two-lane arithmetic `columns` is written against: four 32-bit lanes
//! multiplied pairwise into two 64-bit lanes. With wasm's simd128 that is
//! `u64x2.extmul_{low,high}_u32x4` (two 32x32->64 products per
//! instruction); everywhere else a plain array emulation, so native tests
//! run the very algorithm the module runs.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::{
        u32x4, u32x4_replace_lane, u64x2, u64x2_add, u64x2_extmul_high_u32x4,
        u64x2_extmul_low_u32x4, u64x2_extract_lane, v128,
    };

    /// Four 32-bit lanes.
    #[derive(Clone, Copy)]
    pub(in super::super) struct Quad(v128);

    /// Two 64-bit lanes.
    #[derive(Clone, Copy)]
    pub(in super::super) struct Wide(v128);

    impl Quad {
        pub(in super::super) fn new(a: u32, b: u32, c: u32, d: u32) -> Quad {
            Quad(u32x4(a, b, c, d))
        }

        pub(in super::super) fn with_lane1(self, x: u32) -> Quad {
            Quad(u32x4_replace_lane::<1>(self.0, x))
        }

        pub(in super::super) fn with_lane3(self, x: u32) -> Quad {
            Quad(u32x4_replace_lane::<3>(self.0, x))
        }
    }

    impl Wide {
        pub(in super::super) fn zero() -> Wide {
            Wide(u64x2(0, 0))
        }

        /// `self + (x0 y0, x1 y1) + (x2 y2, x3 y3)`, lane-wise.
        #[inline(always)]
        pub(in super::super) fn mul_add(self, x: Quad, y: Quad) -> Wide {
            let lo = u64x2_extmul_low_u32x4(x.0, y.0);
            let hi = u64x2_extmul_high_u32x4(x.0, y.0);
            Wide(u64x2_add(self.0, u64x2_add(lo, hi)))
        }

        /// The sum of both lanes (wrapping; callers keep it below 2^64).
        pub(in super::super) fn sum(self) -> u64 {
            u64x2_extract_lane::<0>(self.0).wrapping_add(u64x2_extract_lane::<1>(self.0))
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    /// Four 32-bit lanes.
    #[derive(Clone, Copy)]
    pub(in super::super) struct Quad([u32; 4]);

    /// Two 64-bit lanes.
    #[derive(Clone, Copy)]
    pub(in super::super) struct Wide([u64; 2]);

    impl Quad {
        pub(in super::super) fn new(a: u32, b: u32, c: u32, d: u32) -> Quad {
            Quad([a, b, c, d])
        }

        pub(in super::super) fn with_lane1(self, x: u32) -> Quad {
            let [a, _, c, d] = self.0;
            Quad([a, x, c, d])
        }

        pub(in super::super) fn with_lane3(self, x: u32) -> Quad {
            let [a, b, c, _] = self.0;
            Quad([a, b, c, x])
        }
    }

    impl Wide {
        pub(in super::super) fn zero() -> Wide {
            Wide([0, 0])
        }

        /// `self + (x0 y0, x1 y1) + (x2 y2, x3 y3)`, lane-wise (wrapping,
        /// as the SIMD lanes do).
        #[inline(always)]
        pub(in super::super) fn mul_add(self, x: Quad, y: Quad) -> Wide {
            let [x0, x1, x2, x3] = x.0.map(u64::from);
            let [y0, y1, y2, y3] = y.0.map(u64::from);
            let [s0, s1] = self.0;
            Wide([
                s0.wrapping_add(x0 * y0).wrapping_add(x2 * y2),
                s1.wrapping_add(x1 * y1).wrapping_add(x3 * y3),
            ])
        }

        /// The sum of both lanes (wrapping; callers keep it below 2^64).
        pub(in super::super) fn sum(self) -> u64 {
            self.0[0].wrapping_add(self.0[1])
        }
    }
}

pub(super) use imp::{Quad, Wide};
