// Genome tasks (data/genome.h) on small generated sequences: the DNA tokenizer, species windows
// held out by strain, promoter positives/negatives and their distances, splice sites of forward
// and complement genes, and the splice windows' classes.
#include <catch2/catch.hpp>
#include <set>

#include "data/genome.h"
#include "data/sequence_datasets.h"
#include "helpers.h"

using namespace ember;
using namespace ember::data;

namespace {

// Random bases; `gc` is the G+C share (species differ in it, as real bacteria do).
std::string random_dna(int64_t n, uint64_t seed, double gc = 0.5) {
  SplitMix64 rng(seed);
  std::string s(static_cast<size_t>(n), 'A');
  for (auto& c : s) {
    const bool strong = rng.uniform() < gc, first = rng.next() & 1;
    c = strong ? (first ? 'G' : 'C') : (first ? 'A' : 'T');
  }
  return s;
}

}  // namespace

TEST_CASE("genome: tokens and reverse complement", "[seqdata][genome]") {
  CHECK(genome::encode("ACGTNacgtnRYu") == std::vector<uint8_t>{0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 4, 4, 3});
  CHECK(genome::decode({0, 1, 2, 3, 4, genome::kPad, genome::kMask}) == "ACGTN_?");
  CHECK(genome::reverse_complement("AACGTn") == "nACGTT");
  CHECK(genome::reverse_complement("acgR") == "Ncgt");
  CHECK(genome::ambiguous_fraction("ACNNGT", 0, 6) == Approx(2.0 / 6));
  CHECK(genome::token_names().size() == static_cast<size_t>(genome::kVocabSize));
  REQUIRE_THROWS_OP(genome::encode("AC-T"), "genome::encode");
  genome::Windows w;
  w.sequences = {"ACG", "TTTTT"};
  w.labels = {1, 0};
  const Batch b = genome::windows_dataset(w, 4)->get_batch({0, 1});
  CHECK(test::values(b.input) == std::vector<double>{0, 1, 2, genome::kPad, 3, 3, 3, 3});
  CHECK(test::values(b.target) == std::vector<double>{1, 0});
}

TEST_CASE("genome species: strains held out, tails for validation, balanced classes", "[seqdata][genome]") {
  std::vector<genome::LabeledGenome> genomes = {
      {"low-gc", "L1", {random_dna(5000, 1, 0.3)}},
      {"low-gc", "L2", {random_dna(3000, 2, 0.3), random_dna(2000, 3, 0.3)}},
      {"high-gc", "H1", {random_dna(6000, 4, 0.7)}},
      {"high-gc", "H2", {random_dna(2500, 5, 0.7)}},
  };
  genomes[0].sequences[0].replace(100, 200, std::string(200, 'N'));  // a gap: windows over it are dropped
  genome::SpeciesSplitOptions o;
  o.length = 100;
  const std::vector<std::string> held_out = {"L2", "H2"};
  auto where = [&](const std::string& w) {
    for (size_t g = 0; g < genomes.size(); ++g) {
      for (size_t s = 0; s < genomes[g].sequences.size(); ++s) {
        const size_t at = genomes[g].sequences[s].find(w);
        if (at != std::string::npos) return std::tuple<size_t, size_t, size_t>{g, s, at};
      }
    }
    FAIL("window not found in any genome");
    return std::tuple<size_t, size_t, size_t>{};
  };
  for (Split split : {Split::train, Split::val, Split::test}) {
    const auto w = genome::species_windows(genomes, held_out, split, o);
    REQUIRE(!w.sequences.empty());
    int64_t per_class[2] = {0, 0};
    for (size_t i = 0; i < w.sequences.size(); ++i) {
      REQUIRE(w.sequences[i].size() == 100);
      CHECK(w.sequences[i].find('N') == std::string::npos);
      const auto [g, s, at] = where(w.sequences[i]);
      CHECK(w.labels[i] == (genomes[g].species == "low-gc" ? 0 : 1));
      const bool test_strain = genomes[g].strain == "L2" || genomes[g].strain == "H2";
      CHECK(test_strain == (split == Split::test));
      const double cut = 0.9 * static_cast<double>(genomes[g].sequences[s].size());
      if (split == Split::train) CHECK(static_cast<double>(at + 100) <= cut);
      if (split == Split::val) CHECK(static_cast<double>(at) >= cut - 1);
      ++per_class[w.labels[i]];
    }
    CHECK(per_class[0] == per_class[1]);
  }
  // Test: L2 has 30 + 20 windows, H2 25, so each class keeps 25.
  CHECK(genome::species_windows(genomes, held_out, Split::test, o).sequences.size() == 50);
  o.per_class = 7;
  CHECK(genome::species_windows(genomes, held_out, Split::train, o).sequences.size() == 14);
  REQUIRE_THROWS_OP(genome::species_windows(genomes, {"X9"}, Split::test, o), "X9");
}

TEST_CASE("genome promoter: header parsing", "[seqdata][genome]") {
  auto r = genome::parse_upstream_header("NM_165909_up_2000_chr2R_8394842_r", "chr2R:8394842-8396841");
  CHECK(r.chromosome == "chr2R");
  CHECK(r.start == 8394841);
  CHECK(r.end == 8396841);
  CHECK(!r.forward);
  CHECK(r.tss() == 8394840);
  r = genome::parse_upstream_header("NM_1_up_2000_chr2L_100_f", "chr2L:100-2099");
  CHECK(r.forward);
  CHECK(r.tss() == 2099);
  r = genome::parse_upstream_header("NM_164313_up_2000_chr3R_-1646_f", "chr3R:-1646-353");
  CHECK(r.start == -1647);
  CHECK(r.end == 353);
  REQUIRE_THROWS_OP(genome::parse_upstream_header("NM_1_up", "chr2L:100-2099"), "not of the form");
  REQUIRE_THROWS_OP(genome::parse_upstream_header("NM_1_f", "chr2L:1x0-2099"), "not numbers");
}

TEST_CASE("genome promoter: positives end at the TSS, negatives lie far from every TSS", "[seqdata][genome]") {
  const int64_t n = 120000, upstream = 500;
  const std::string chrom = random_dna(n, 9);
  std::vector<SequenceRecord> records;
  std::vector<int64_t> tss_list;
  for (int64_t k = 0; k < 30; ++k) {
    const int64_t tss = 1000 + k * 3900;
    const bool forward = k % 3 != 0;
    tss_list.push_back(tss);
    SequenceRecord r;
    if (forward) {  // upstream = [tss - 500, tss), 1-based tss-499 .. tss
      r.name = fmt::format("NM_{}_up_500_chrT_{}_f", k, tss - upstream + 1);
      r.description = fmt::format("chrT:{}-{}", tss - upstream + 1, tss);
      r.sequence = chrom.substr(static_cast<size_t>(tss - upstream), static_cast<size_t>(upstream));
    } else {  // the reverse strand's upstream lies to the right: [tss + 1, tss + 501), reverse-complemented
      r.name = fmt::format("NM_{}_up_500_chrT_{}_r", k, tss + 2);
      r.description = fmt::format("chrT:{}-{}", tss + 2, tss + upstream + 1);
      r.sequence = genome::reverse_complement(chrom.substr(static_cast<size_t>(tss + 1), static_cast<size_t>(upstream)));
    }
    records.push_back(r);
    if (k == 4) records.push_back(r);  // a TSS listed twice (two transcripts) counts once
  }
  records.push_back({"NM_x_up_500_chrO_5_f", "chrO:5-504", std::string(500, 'A')});  // another chromosome: ignored
  genome::PromoterOptions o;
  o.length = 100;
  o.min_distance = 1000;
  size_t total_positives = 0;
  for (Split split : {Split::train, Split::val, Split::test}) {
    const auto w = genome::promoter_windows(records, "chrT", chrom, split, o);
    size_t positives = 0;
    for (size_t i = 0; i < w.sequences.size(); ++i) {
      const std::string& s = w.sequences[i];
      REQUIRE(s.size() == 100);
      size_t at = chrom.find(s);
      const bool reversed = at == std::string::npos;
      if (reversed) at = chrom.find(genome::reverse_complement(s));
      REQUIRE(at != std::string::npos);
      const auto start = static_cast<int64_t>(at);
      if (w.labels[i] == 1) {
        ++positives;
        // The window ends right before the TSS, on the gene's strand.
        const bool ok = reversed ? std::find(tss_list.begin(), tss_list.end(), start - 1) != tss_list.end()
                                 : std::find(tss_list.begin(), tss_list.end(), start + 100) != tss_list.end();
        CHECK(ok);
      } else {
        for (int64_t tss : tss_list) CHECK((tss < start - o.min_distance || tss >= start + 100 + o.min_distance));
      }
      const int64_t anchor = w.labels[i] == 1 ? (reversed ? start - 1 : start + 100) : start;
      const double f = static_cast<double>(anchor) / static_cast<double>(n);
      CHECK((split == Split::train ? f < 0.8 : split == Split::val ? (f >= 0.8 && f < 0.9) : f >= 0.9));
    }
    CHECK(positives * 2 == w.sequences.size());  // as many negatives as positives
    total_positives += positives;
  }
  CHECK(total_positives == 30);
  o.length = 1000;
  REQUIRE_THROWS_OP(genome::promoter_windows(records, "chrT", chrom, Split::train, o), "holds 500 bp");
}

TEST_CASE("genome splice: sites of forward and complement genes", "[seqdata][genome]") {
  GenBankRecord fwd;
  fwd.sequence = "acatggtaagctagtcacaggtaaaggcct";  // 30 bp
  GenBankFeature cds;
  cds.type = "CDS";
  cds.location = parse_genbank_location("join(3..8,13..17,23..28)");
  fwd.features = {cds};
  const auto s = genome::splice_sites(fwd);
  // Introns [8, 12) and [17, 22): donors at the first intron base, acceptors at the last.
  CHECK(s.donors_forward == std::vector<int64_t>{8, 17});
  CHECK(s.acceptors_forward == std::vector<int64_t>{11, 21});
  CHECK(s.donors_reverse.empty());

  GenBankRecord rev;
  rev.sequence = "ACGTACGTACGT";
  cds.location = parse_genbank_location("complement(join(2..4,9..11))");
  rev.features = {cds};
  const auto r = genome::splice_sites(rev);
  // Intron [4, 8) on the record = [12 - 8, 12 - 4) = [4, 8) on its reverse complement.
  CHECK(r.donors_reverse == std::vector<int64_t>{4});
  CHECK(r.acceptors_reverse == std::vector<int64_t>{7});
  CHECK(r.donors_forward.empty());
}

TEST_CASE("genome splice: windows, decoys and the split by record", "[seqdata][genome]") {
  // 20 records, each a random gene with 3 exons whose introns start with GT and end with AG.
  std::vector<GenBankRecord> records;
  for (int k = 0; k < 20; ++k) {
    GenBankRecord rec;
    rec.locus = "gene" + std::to_string(k);
    rec.sequence = random_dna(600, 100 + static_cast<uint64_t>(k));
    const bool complement = k % 2 == 1;
    // Introns (1-based, forward strand): [201, 260] and [351, 420].
    std::string& q = rec.sequence;
    if (!complement) {
      q.replace(200, 2, "GT"), q.replace(258, 2, "AG"), q.replace(350, 2, "GT"), q.replace(418, 2, "AG");
    } else {  // on the reverse strand the intron reads AC..CT forward
      q.replace(200, 2, "CT"), q.replace(258, 2, "AC"), q.replace(350, 2, "CT"), q.replace(418, 2, "AC");
    }
    GenBankFeature cds;
    cds.type = "CDS";
    cds.location = parse_genbank_location(complement ? "complement(join(101..200,261..350,421..500))"
                                                     : "join(101..200,261..350,421..500)");
    rec.features = {cds};
    records.push_back(rec);
  }
  genome::SpliceOptions o;
  o.length = 40;
  const auto train = genome::splice_windows(records, Split::train, o);
  const auto val = genome::splice_windows(records, Split::val, o);
  const auto test_split = genome::splice_windows(records, Split::test, o);
  // 18 train records (the last 10 % = 2 are val): 2 donors + 2 acceptors each, decoys half as many.
  int64_t counts[3] = {0, 0, 0};
  for (size_t i = 0; i < train.sequences.size(); ++i) {
    const std::string& w = train.sequences[i];
    REQUIRE(w.size() == 40);
    ++counts[train.labels[i]];
    if (train.labels[i] == 0) CHECK(w.substr(20, 2) == "GT");
    if (train.labels[i] == 1) CHECK(w.substr(19, 2) == "AG");
    if (train.labels[i] == 2) {
      const bool gt = w.substr(20, 2) == "GT", ag = w.substr(19, 2) == "AG";
      CHECK((gt || ag));
    }
  }
  CHECK(counts[0] == 36);
  CHECK(counts[1] == 36);
  CHECK(counts[2] == 36);
  CHECK(val.sequences.size() == 12);  // 2 records
  CHECK(test_split.sequences.size() == 120);  // every record
  // Deterministic.
  CHECK(genome::splice_windows(records, Split::train, o).sequences == train.sequences);
}
