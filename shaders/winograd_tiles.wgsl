// winograd_tiles.wgsl — where a block of 4 consecutive tiles t0 .. t0 + 3 of Winograd
// F(MxM, 3x3) lies (t0 a multiple of 4). An image's tiles run row after row, `row` a row
// (t = ty·row + tx), its `live` tiles one after another with no row rounded up, so that a
// block may wrap into the next row (or rows, where a row holds fewer than 4); the tiles past
// `live` (up to the image's next multiple of 4) are dead: read as zeros, never stored.
// Shared by winograd_input.wgsl, winograd_output.wgsl and gemm.wgsl's WINO mode.

struct Tiles { ty: vec4<u32>, tx: vec4<u32>, live: vec4<bool> }

// One division for the block, then up to 3 wraps as selects (a division is a lane-by-lane
// loop on llvmpipe).
fn tiles_at(t0: u32, row: u32, live: u32) -> Tiles {
    let lane = vec4<u32>(0u, 1u, 2u, 3u);
    var tx = vec4<u32>(t0 % row) + lane;
    var ty = vec4<u32>(t0 / row);
    for (var i = 0u; i < 3u; i++) {
        let wrap = tx >= vec4<u32>(row);
        tx = select(tx, tx - vec4<u32>(row), wrap);
        ty = select(ty, ty + vec4<u32>(1u), wrap);
    }
    return Tiles(ty, tx, vec4<u32>(t0) + lane < vec4<u32>(live));
}
