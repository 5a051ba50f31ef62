//! How `validate_remote_cidrs` scales: 1,000 / 10,000 / 100,000 remote CIDRs, once with
//! no two overlapping (the common, valid case) and once with many overlaps and
//! duplicates (every entry must find the earliest-listed one it collides with).
//!
//! Run with `cargo bench -p hybridnet --bench cidr_validation`.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hybridnet_rules::{rfc1918, validate_remote_cidrs, Ipv4Net, Network, RemoteCidr};

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// SplitMix64: a small deterministic generator, so every run measures the same input.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` for a benchmark.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Half node entries, half pod entries, each list indexed from 0, shuffled.
fn remote(cidrs: Vec<Ipv4Net>, rng: &mut Rng) -> Vec<RemoteCidr> {
    let half = cidrs.len() / 2;
    let mut out: Vec<RemoteCidr> = cidrs
        .into_iter()
        .enumerate()
        .map(|(i, cidr)| {
            let (network, index) = if i < half { (Network::Node, i) } else { (Network::Pod, i - half) };
            RemoteCidr { network, index, cidr }
        })
        .collect();
    shuffle(&mut out, rng);
    out
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

fn block(addr: u32, prefix: u8) -> Ipv4Net {
    Ipv4Net::new(Ipv4Addr::from(addr), prefix).map(|n| n.trunc()).unwrap_or_default()
}

/// `n` distinct /26 blocks of 10.0.0.0/8 (it has 262,144 of them): no overlaps.
fn disjoint(n: usize, rng: &mut Rng) -> Vec<RemoteCidr> {
    let mut slots: Vec<u32> = (0..1u32 << 18).collect();
    shuffle(&mut slots, rng);
    let cidrs = slots.iter().take(n).map(|&s| block(0x0a00_0000 | (s << 6), 26)).collect();
    remote(cidrs, rng)
}

/// `n` blocks of 10.0.0.0/8 with random prefixes from /12 to /28 (so large blocks
/// contain many small ones), one in ten a duplicate of an earlier one.
fn overlapping(n: usize, rng: &mut Rng) -> Vec<RemoteCidr> {
    let mut cidrs: Vec<Ipv4Net> = Vec::with_capacity(n);
    for _ in 0..n {
        let cidr = if !cidrs.is_empty() && rng.below(10) == 0 {
            cidrs[rng.below(cidrs.len() as u64) as usize]
        } else {
            let addr = 0x0a00_0000 | (rng.next() as u32 & 0x00ff_ffff);
            block(addr, 12 + rng.below(17) as u8)
        };
        cidrs.push(cidr);
    }
    remote(cidrs, rng)
}

fn bench(c: &mut Criterion, name: &str, make: fn(usize, &mut Rng) -> Vec<RemoteCidr>) {
    let vpc = [(0, block(0xac1f_0000, 16))]; // 172.31.0.0/16
    let service = Some(block(0xac14_0000, 16)); // 172.20.0.0/16
    let allowed = rfc1918();
    let mut group = c.benchmark_group(format!("validate_remote_cidrs/{name}"));
    for n in SIZES {
        let input = make(n, &mut Rng(n as u64));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, input| {
            b.iter(|| validate_remote_cidrs(black_box(input), &vpc, service, &allowed))
        });
    }
    group.finish();
}

fn non_overlapping(c: &mut Criterion) {
    bench(c, "non_overlapping", disjoint);
}

fn with_overlaps(c: &mut Criterion) {
    bench(c, "overlapping", overlapping);
}

criterion_group! {
    name = benches;
    // Small samples: the machine is shared and the largest input takes milliseconds.
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = non_overlapping, with_overlaps
}
criterion_main!(benches);
