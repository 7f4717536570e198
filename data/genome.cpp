// DNA tokens and the three genome tasks (interface and split rules: data/genome.h).
#include "data/genome.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>

#include "data/dataloader.h"
#include "engine/error.h"
#include "engine/factories.h"

namespace ember::data::genome {

const std::vector<std::string>& token_names() {
  static const std::vector<std::string> names = {"A", "C", "G", "T", "N", "PAD", "MASK"};
  return names;
}

namespace {

uint8_t base_id(char c) {
  switch (c) {
    case 'A': case 'a': return kA;
    case 'C': case 'c': return kC;
    case 'G': case 'g': return kG;
    case 'T': case 't': case 'U': case 'u': return kT;
    default: return kN;
  }
}

bool is_acgt(char c) { return base_id(c) != kN; }

}  // namespace

std::vector<uint8_t> encode(const std::string& dna) {
  std::vector<uint8_t> ids(dna.size());
  for (size_t i = 0; i < dna.size(); ++i) {
    EMBER_CHECK(std::isalpha(static_cast<unsigned char>(dna[i])),
                "genome::encode: character '{}' at position {} is not a base letter", dna[i], i);
    ids[i] = base_id(dna[i]);
  }
  return ids;
}

std::string decode(const std::vector<uint8_t>& ids) {
  static const char letters[] = {'A', 'C', 'G', 'T', 'N', '_', '?'};
  std::string out(ids.size(), ' ');
  for (size_t i = 0; i < ids.size(); ++i) {
    EMBER_CHECK(ids[i] < kVocabSize, "genome::decode: id {} at position {} is outside [0, {})", ids[i], i, kVocabSize);
    out[i] = letters[ids[i]];
  }
  return out;
}

std::string reverse_complement(const std::string& dna) {
  std::string out(dna.rbegin(), dna.rend());
  for (char& c : out) {
    const bool lower = std::islower(static_cast<unsigned char>(c)) != 0;
    char r = 'N';
    switch (std::toupper(static_cast<unsigned char>(c))) {
      case 'A': r = 'T'; break;
      case 'C': r = 'G'; break;
      case 'G': r = 'C'; break;
      case 'T': case 'U': r = 'A'; break;
      default: break;
    }
    c = lower ? static_cast<char>(std::tolower(r)) : r;
  }
  return out;
}

double ambiguous_fraction(const std::string& dna, int64_t begin, int64_t end) {
  if (end <= begin) return 0.0;
  int64_t n = 0;
  for (int64_t i = begin; i < end; ++i) n += !is_acgt(dna[static_cast<size_t>(i)]);
  return static_cast<double>(n) / static_cast<double>(end - begin);
}

DatasetPtr windows_dataset(const Windows& windows, int64_t length) {
  EMBER_CHECK(windows.sequences.size() == windows.labels.size(), "genome::windows_dataset: {} windows but {} labels",
              windows.sequences.size(), windows.labels.size());
  EMBER_CHECK(length >= 1, "genome::windows_dataset: length {} < 1", length);
  const auto n = static_cast<int64_t>(windows.sequences.size());
  Tensor tokens = full({n, length}, static_cast<double>(kPad), TensorOptions(DType::u8));
  Tensor labels = empty({n}, TensorOptions(DType::i64));
  auto* t = tokens.data_ptr<uint8_t>();
  auto* l = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const auto ids = encode(windows.sequences[static_cast<size_t>(i)]);
    const auto len = std::min<int64_t>(length, static_cast<int64_t>(ids.size()));
    std::copy(ids.begin(), ids.begin() + len, t + i * length);
    l[i] = windows.labels[static_cast<size_t>(i)];
  }
  return std::make_shared<TokenDataset>(tokens, labels);
}

namespace {

// `count` evenly spaced picks out of [0, available): deterministic and spread over the whole range.
std::vector<size_t> evenly_spaced(size_t available, size_t count) {
  std::vector<size_t> picks;
  if (available == 0) return picks;
  count = std::min(count, available);
  for (size_t i = 0; i < count; ++i) picks.push_back(i * available / count);
  return picks;
}

// `count` distinct picks out of [0, available) in random order (a partial Fisher-Yates shuffle).
std::vector<size_t> random_picks(size_t available, size_t count, SplitMix64& rng) {
  std::vector<size_t> all(available);
  for (size_t i = 0; i < available; ++i) all[i] = i;
  count = std::min(count, available);
  for (size_t i = 0; i < count; ++i) {
    std::swap(all[i], all[i + static_cast<size_t>(rng.below(static_cast<int64_t>(available - i)))]);
  }
  all.resize(count);
  return all;
}

// Letters [start, start + length) of seq, with N outside it.
std::string window_at(const std::string& seq, int64_t start, int64_t length) {
  std::string out(static_cast<size_t>(length), 'N');
  const auto n = static_cast<int64_t>(seq.size());
  for (int64_t i = std::max<int64_t>(0, -start); i < length && start + i < n; ++i) {
    out[static_cast<size_t>(i)] = seq[static_cast<size_t>(start + i)];
  }
  return out;
}

}  // namespace

// ---- species ----

Windows species_windows(const std::vector<LabeledGenome>& genomes, const std::vector<std::string>& test_strains,
                        Split split, const SpeciesSplitOptions& options) {
  const int64_t L = options.length, stride = options.stride > 0 ? options.stride : options.length;
  EMBER_CHECK(L >= 1 && options.val_fraction > 0 && options.val_fraction < 1,
              "genome_species: bad options (length {}, val_fraction {})", L, options.val_fraction);
  std::vector<std::string> classes;
  for (const auto& g : genomes) {
    if (std::find(classes.begin(), classes.end(), g.species) == classes.end()) classes.push_back(g.species);
  }
  for (const auto& s : test_strains) {
    EMBER_CHECK(std::any_of(genomes.begin(), genomes.end(), [&](const LabeledGenome& g) { return g.strain == s; }),
                "genome_species: held-out strain {} is not among the genomes", s);
  }
  struct Place {
    size_t genome, sequence;
    int64_t start;
  };
  std::vector<std::vector<Place>> per_class(classes.size());
  for (size_t gi = 0; gi < genomes.size(); ++gi) {
    const auto& g = genomes[gi];
    const bool held_out = std::find(test_strains.begin(), test_strains.end(), g.strain) != test_strains.end();
    if (held_out != (split == Split::test)) continue;
    const size_t c = static_cast<size_t>(std::find(classes.begin(), classes.end(), g.species) - classes.begin());
    for (size_t si = 0; si < g.sequences.size(); ++si) {
      const auto n = static_cast<int64_t>(g.sequences[si].size());
      int64_t begin = 0, end = n;
      if (!held_out) {
        const auto cut = static_cast<int64_t>(static_cast<double>(n) * (1.0 - options.val_fraction));
        (split == Split::train ? end : begin) = cut;
      }
      for (int64_t s = begin; s + L <= end; s += stride) {
        if (ambiguous_fraction(g.sequences[si], s, s + L) <= options.max_ambiguous) per_class[c].push_back({gi, si, s});
      }
    }
  }
  size_t smallest = SIZE_MAX;
  for (size_t c = 0; c < classes.size(); ++c) {
    EMBER_CHECK(!per_class[c].empty(), "genome_species: species {} has no {} window of {} bp", classes[c],
                split_name(split), L);
    smallest = std::min(smallest, per_class[c].size());
  }
  if (options.per_class > 0) smallest = std::min(smallest, static_cast<size_t>(options.per_class));
  Windows out;
  for (size_t c = 0; c < classes.size(); ++c) {
    for (size_t pick : evenly_spaced(per_class[c].size(), smallest)) {
      const Place& p = per_class[c][pick];
      out.sequences.push_back(genomes[p.genome].sequences[p.sequence].substr(static_cast<size_t>(p.start),
                                                                              static_cast<size_t>(L)));
      out.labels.push_back(static_cast<int64_t>(c));
    }
  }
  return out;
}

// ---- promoters ----

UpstreamRegion parse_upstream_header(const std::string& name, const std::string& description) {
  UpstreamRegion r;
  // "chr2R:100-2099"; near a chromosome start the range can begin below 1: "chr3R:-1646-353".
  const size_t colon = description.find(':');
  const size_t dash = colon == std::string::npos ? std::string::npos : description.find('-', colon + 2);
  const bool strand_ok = name.size() > 2 && name[name.size() - 2] == '_' &&
                         (name.back() == 'f' || name.back() == 'r');
  EMBER_CHECK(colon != std::string::npos && dash != std::string::npos && strand_ok,
              "genome_promoter: header \"{} {}\" is not of the form NAME_up_2000_CHR_POS_f|r CHR:START-END", name,
              description);
  r.chromosome = description.substr(0, colon);
  try {
    size_t used_start = 0, used_end = 0;
    const std::string start_text = description.substr(colon + 1, dash - colon - 1), end_text = description.substr(dash + 1);
    r.start = std::stoll(start_text, &used_start) - 1;  // 1-based inclusive -> 0-based half-open
    r.end = std::stoll(end_text, &used_end);
    if (used_start != start_text.size() || used_end != end_text.size()) throw std::invalid_argument("trailing text");
  } catch (const std::exception&) {
    EMBER_FAIL("genome_promoter: header \"{} {}\": the coordinates are not numbers", name, description);
  }
  EMBER_CHECK(r.end > r.start, "genome_promoter: header \"{} {}\": empty range", name, description);
  r.forward = name.back() == 'f';
  return r;
}

namespace {

Split position_split(int64_t position, int64_t chromosome_length) {
  const double f = static_cast<double>(position) / static_cast<double>(chromosome_length);
  return f < 0.8 ? Split::train : (f < 0.9 ? Split::val : Split::test);
}

}  // namespace

Windows promoter_windows(const std::vector<SequenceRecord>& upstream, const std::string& chromosome_name,
                         const std::string& chromosome, Split split, const PromoterOptions& options) {
  const int64_t L = options.length, n = static_cast<int64_t>(chromosome.size());
  EMBER_CHECK(L >= 1 && n > 10 * L, "genome_promoter: window {} too long for a chromosome of {} bp", L, n);
  std::vector<int64_t> all_tss;
  std::set<std::pair<int64_t, bool>> seen;
  Windows out;
  for (const auto& record : upstream) {
    const UpstreamRegion r = parse_upstream_header(record.name, record.description);
    if (r.chromosome != chromosome_name) continue;
    EMBER_CHECK(r.end <= n, "genome_promoter: {} {} lies past the end of {} ({} bp)", record.name, record.description,
                chromosome_name, n);
    all_tss.push_back(r.tss());
    if (!seen.insert({r.tss(), r.forward}).second) continue;  // one TSS listed for several transcripts
    if (position_split(r.tss(), n) != split) continue;
    const auto len = static_cast<int64_t>(record.sequence.size());
    EMBER_CHECK(len >= L, "genome_promoter: record {} holds {} bp, fewer than the window {}", record.name, len, L);
    out.sequences.push_back(record.sequence.substr(static_cast<size_t>(len - L)));
    out.labels.push_back(1);
  }
  EMBER_CHECK(!all_tss.empty(), "genome_promoter: no upstream record lies on {}", chromosome_name);
  std::sort(all_tss.begin(), all_tss.end());
  const size_t positives = out.sequences.size();
  // Background windows inside this split's part of the chromosome, far from every TSS.
  const auto region_begin = static_cast<int64_t>(static_cast<double>(n) * (split == Split::train ? 0.0 : split == Split::val ? 0.8 : 0.9));
  const auto region_end = static_cast<int64_t>(static_cast<double>(n) * (split == Split::train ? 0.8 : split == Split::val ? 0.9 : 1.0));
  SplitMix64 rng(derive_seed(options.seed, {static_cast<uint64_t>(split)}));
  size_t negatives = 0;
  for (int64_t attempt = 0; negatives < positives && attempt < 1000 * static_cast<int64_t>(positives) + 1000; ++attempt) {
    const int64_t s = region_begin + rng.below(std::max<int64_t>(1, region_end - region_begin - L));
    const auto near = std::lower_bound(all_tss.begin(), all_tss.end(), s - options.min_distance);
    if (near != all_tss.end() && *near < s + L + options.min_distance) continue;
    if (ambiguous_fraction(chromosome, s, s + L) > 0.01) continue;
    std::string w = chromosome.substr(static_cast<size_t>(s), static_cast<size_t>(L));
    if (rng.next() & 1) w = reverse_complement(w);
    out.sequences.push_back(std::move(w));
    out.labels.push_back(0);
    ++negatives;
  }
  EMBER_CHECK(negatives == positives, "genome_promoter: found only {} background windows for {} promoters in the {} part",
              negatives, positives, split_name(split));
  return out;
}

// ---- splice sites ----

const std::vector<std::string>& splice_class_names() {
  static const std::vector<std::string> names = {"donor", "acceptor", "neither"};
  return names;
}

SpliceSites splice_sites(const GenBankRecord& record) {
  std::set<int64_t> donors[2], acceptors[2];  // [0]: forward, [1]: reverse-complement coordinates
  const auto len = static_cast<int64_t>(record.sequence.size());
  for (const auto& f : record.features) {
    if (f.type != "CDS" || f.location.intervals.size() < 2) continue;
    auto exons = f.location.intervals;
    std::sort(exons.begin(), exons.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
    for (size_t i = 0; i + 1 < exons.size(); ++i) {
      const int64_t a = exons[i].end, b = exons[i + 1].start;  // intron [a, b) on the record
      EMBER_CHECK(b > a, "splice_sites: record {}: exons {}..{} and {}..{} of a CDS overlap or touch", record.locus,
                  exons[i].start + 1, exons[i].end, exons[i + 1].start + 1, exons[i + 1].end);
      if (!f.location.complement) {
        donors[0].insert(a);
        acceptors[0].insert(b - 1);
      } else {
        // Read on the reverse strand: the intron starts at its right end. p -> len - 1 - p.
        donors[1].insert(len - b);
        acceptors[1].insert(len - 1 - a);
      }
    }
  }
  return {{donors[0].begin(), donors[0].end()},
          {acceptors[0].begin(), acceptors[0].end()},
          {donors[1].begin(), donors[1].end()},
          {acceptors[1].begin(), acceptors[1].end()}};
}

Windows splice_windows(const std::vector<GenBankRecord>& records, Split split, const SpliceOptions& options) {
  const int64_t L = options.length, half = options.length / 2;
  EMBER_CHECK(L >= 4 && options.val_fraction > 0 && options.val_fraction < 1,
              "genome_splice: bad options (length {}, val_fraction {})", L, options.val_fraction);
  size_t begin = 0, end = records.size();
  if (split != Split::test) {
    const auto val_count = static_cast<size_t>(std::ceil(static_cast<double>(records.size()) * options.val_fraction));
    const size_t cut = records.size() - std::min(val_count, records.size());
    (split == Split::train ? end : begin) = cut;
  }
  struct Site {
    size_t record;
    bool reverse;
    int64_t position;
  };
  std::vector<Site> donors, acceptors, gt_decoys, ag_decoys;
  std::vector<std::string> reversed(records.size());
  for (size_t ri = begin; ri < end; ++ri) {
    const auto& seq = records[ri].sequence;
    reversed[ri] = reverse_complement(seq);
    const SpliceSites sites = splice_sites(records[ri]);
    for (int strand = 0; strand < 2; ++strand) {
      const std::string& s = strand == 0 ? seq : reversed[ri];
      const auto& d = strand == 0 ? sites.donors_forward : sites.donors_reverse;
      const auto& a = strand == 0 ? sites.acceptors_forward : sites.acceptors_reverse;
      for (int64_t p : d) donors.push_back({ri, strand == 1, p});
      for (int64_t p : a) acceptors.push_back({ri, strand == 1, p});
      // Decoys: a GT starting at p (donor-like) or an AG ending at p (acceptor-like) that is no site.
      for (int64_t p = 1; p + 1 < static_cast<int64_t>(s.size()); ++p) {
        const char c0 = static_cast<char>(std::toupper(static_cast<unsigned char>(s[static_cast<size_t>(p - 1)])));
        const char c1 = static_cast<char>(std::toupper(static_cast<unsigned char>(s[static_cast<size_t>(p)])));
        const char c2 = static_cast<char>(std::toupper(static_cast<unsigned char>(s[static_cast<size_t>(p + 1)])));
        if (c1 == 'G' && c2 == 'T' && !std::binary_search(d.begin(), d.end(), p)) gt_decoys.push_back({ri, strand == 1, p});
        if (c0 == 'A' && c1 == 'G' && !std::binary_search(a.begin(), a.end(), p)) ag_decoys.push_back({ri, strand == 1, p});
      }
    }
  }
  SplitMix64 rng(derive_seed(options.seed, {static_cast<uint64_t>(split)}));
  const size_t decoys_each = (donors.size() + acceptors.size() + 2) / 4;  // (donors + acceptors) / 2 in all
  Windows out;
  auto emit = [&](const Site& site, int64_t label) {
    const std::string& s = site.reverse ? reversed[site.record] : records[site.record].sequence;
    out.sequences.push_back(window_at(s, site.position - half, L));
    out.labels.push_back(label);
  };
  for (const auto& s : donors) emit(s, 0);
  for (const auto& s : acceptors) emit(s, 1);
  for (size_t i : random_picks(gt_decoys.size(), decoys_each, rng)) emit(gt_decoys[i], 2);
  for (size_t i : random_picks(ag_decoys.size(), decoys_each, rng)) emit(ag_decoys[i], 2);
  EMBER_CHECK(!donors.empty(), "genome_splice: the {} records hold no CDS with introns", split_name(split));
  return out;
}

}  // namespace ember::data::genome
