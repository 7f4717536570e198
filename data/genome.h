// Genome tasks built from real sequences (Debian packages, see docs/DATASETS.md) and the DNA
// tokenizer they share: "genome_species" (which of four bacteria a window comes from, whole strains
// held out), "genome_promoter" (fly promoter vs chr2R background) and "genome_splice" (donor /
// acceptor / neither, fly genes). The builders take sequences in memory so the tests can feed them
// small generated ones; the registry (data/sequence_datasets.cpp) feeds them the real files.
// Readers: data/fasta.h. Tests: test/data/test_genome.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/fasta.h"
#include "data/sequence_datasets.h"

namespace ember::data::genome {

// A=0 C=1 G=2 T=3 N=4 (any other letter: IUPAC ambiguity codes, lower or upper case), PAD=5, MASK=6.
inline constexpr int64_t kA = 0, kC = 1, kG = 2, kT = 3, kN = 4, kPad = 5, kMask = 6, kVocabSize = 7;
const std::vector<std::string>& token_names();  // {"A", "C", "G", "T", "N", "PAD", "MASK"}

// Letters -> ids (uint8). Non-letters are an error (readers already removed digits and spaces).
std::vector<uint8_t> encode(const std::string& dna);
std::string decode(const std::vector<uint8_t>& ids);  // PAD -> '_', MASK -> '?'
std::string reverse_complement(const std::string& dna);  // case kept; non-ACGT -> N
// Share of positions that are not A/C/G/T.
double ambiguous_fraction(const std::string& dna, int64_t begin, int64_t end);

// Windows of one class, gathered into a TokenDataset: tokens (N, L) uint8, targets (N) int64.
struct Windows {
  std::vector<std::string> sequences;  // each exactly L letters (padding added at encode time)
  std::vector<int64_t> labels;
};
DatasetPtr windows_dataset(const Windows& windows, int64_t length);

// ---- species of origin ----
struct LabeledGenome {
  std::string species;   // class name
  std::string strain;    // the unit held out
  std::vector<std::string> sequences;  // chromosomes / plasmids
};
struct SpeciesSplitOptions {
  int64_t length = 1024;         // window L
  int64_t stride = 0;            // 0 = L (non-overlapping)
  double max_ambiguous = 0.01;   // windows with more N than this are dropped
  int64_t per_class = 0;         // > 0: at most this many windows per class (evenly spaced subsample)
  double val_fraction = 0.1;     // the tail of every training-strain sequence goes to val
};
// Classes = species in order of first appearance. test: every window of each species' held-out
// strain (the one named in test_strains); train: the first (1 - val_fraction) of every other
// strain's sequences; val: the rest. Classes are balanced by subsampling every class to the
// smallest class's window count (evenly spaced, so deterministic).
Windows species_windows(const std::vector<LabeledGenome>& genomes, const std::vector<std::string>& test_strains,
                        Split split, const SpeciesSplitOptions& options);

// ---- promoters ----
// A record of Biostrings' dm3_upstream2000.fa: "NM_000001_up_2000_chr2R_123_f chr2R:100-2099".
struct UpstreamRegion {
  std::string chromosome;
  int64_t start = 0, end = 0;  // 0-based half-open on the chromosome (start < 0 near its beginning)
  bool forward = true;         // '_f': the TSS is at `end`; '_r': at start - 1, sequence reverse-complemented
  int64_t tss() const { return forward ? end : start - 1; }
};
UpstreamRegion parse_upstream_header(const std::string& name, const std::string& description);

struct PromoterOptions {
  int64_t length = 300;        // L: the last L bp before the TSS
  int64_t min_distance = 5000; // negatives start/end at least this far from every TSS
  uint64_t seed = 1;
};
// Positives: the last L letters of each record on `chromosome` (deduplicated by TSS), label 1.
// Negatives: as many windows of the chromosome, at least min_distance from every TSS of the
// records and with few N, each reverse-complemented with probability 1/2, label 0. Split by
// chromosome position: train = TSS (or window) in the first 80 % of the chromosome, val the next
// 10 %, test the last 10 %, so overlapping upstream regions never straddle splits.
Windows promoter_windows(const std::vector<SequenceRecord>& upstream, const std::string& chromosome_name,
                         const std::string& chromosome, Split split, const PromoterOptions& options);

// ---- splice sites ----
// Intron boundaries of a GenBank record's CDS features (join() intervals), in record coordinates
// on the strand of the gene: donor = first intron base (the exon-intron boundary, "GT..."),
// acceptor = last intron base (before the next exon, "...AG"). Complement genes are mapped to the
// reverse-complemented record: position p -> length - 1 - p.
struct SpliceSites {
  std::vector<int64_t> donors_forward, acceptors_forward;  // on the record as written
  std::vector<int64_t> donors_reverse, acceptors_reverse;  // on its reverse complement
};
SpliceSites splice_sites(const GenBankRecord& record);

struct SpliceOptions {
  int64_t length = 400;   // L, centred on the site (the GUE convention)
  uint64_t seed = 1;
  double val_fraction = 0.1;
};
// Classes: 0 = donor, 1 = acceptor, 2 = neither. Decoys: GT and AG dinucleotides on either strand
// that are not annotated sites, as many as (donors + acceptors) / 2 in all, half of each. Windows
// running off the record are padded with N. Split by record (gene): for Split::test every record
// given is used (the caller passes augustus' genes.gb.test); for train and val the caller passes
// genes.gb.train and the last val_fraction of its records (file order) are val, the others train.
Windows splice_windows(const std::vector<GenBankRecord>& records, Split split, const SpliceOptions& options);
const std::vector<std::string>& splice_class_names();  // {"donor", "acceptor", "neither"}

}  // namespace ember::data::genome
