import { addBleuStats, bleuFromStats, bleuStats, emptyBleuStats, type BleuStats } from './metrics/bleu.js';
import { chrfFromStats, chrfStats, emptyChrfStats, type ChrfStats } from './metrics/chrf.js';
import { sumStats } from './metrics/corpus.js';
import { editSimilarity } from './metrics/edit-similarity.js';
import { exactMatch, exactMatchFirstLine } from './metrics/exact-match.js';
import { tokenIou } from './metrics/iou.js';
import { werCounts, werFromCounts, type WerCounts } from './metrics/wer.js';

/** Every text metric of one (hypothesis, reference) pair. chrF and BLEU are on 0..100, the rest 0..1 (WER may exceed 1). */
export interface PairScores {
  exact_match: number;
  exact_match_first_line: number;
  chrf: number;
  bleu: number;
  wer: number;
  iou: number;
  edit_sim: number;
}

/**
 * The same metrics over a corpus. chrF, BLEU and WER pool their statistics over the pairs
 * (as sacrebleu's corpus scores do); the others are means of the per-pair values.
 */
export interface CorpusScores extends PairScores {
  pairs: number;
}

/** Scores pairs one at a time and keeps what the corpus scores need, not the texts. */
export class ScoreAccumulator {
  private count = 0;
  private chrf: ChrfStats = emptyChrfStats();
  private bleu: BleuStats = emptyBleuStats();
  private wer: WerCounts = { errors: 0, refWords: 0 };
  private sums = { exact_match: 0, exact_match_first_line: 0, iou: 0, edit_sim: 0 };

  add(hyp: string, ref: string): PairScores {
    const chrf = chrfStats(hyp, ref);
    const bleu = bleuStats(hyp, ref);
    const wer = werCounts(hyp, ref);
    const scores: PairScores = {
      exact_match: exactMatch(hyp, ref),
      exact_match_first_line: exactMatchFirstLine(hyp, ref),
      chrf: chrfFromStats(chrf),
      bleu: bleuFromStats(bleu, true),
      wer: werFromCounts(wer),
      iou: tokenIou(hyp, ref),
      edit_sim: editSimilarity(hyp, ref),
    };
    this.count++;
    this.chrf = sumStats([this.chrf, chrf]);
    this.bleu = addBleuStats(this.bleu, bleu);
    this.wer = { errors: this.wer.errors + wer.errors, refWords: this.wer.refWords + wer.refWords };
    for (const key of Object.keys(this.sums) as Array<keyof typeof this.sums>) this.sums[key] += scores[key];
    return scores;
  }

  /** Corpus scores of everything added so far (all 0 for no pairs, WER included). */
  summary(): CorpusScores {
    const mean = (sum: number): number => (this.count === 0 ? 0 : sum / this.count);
    return {
      pairs: this.count,
      exact_match: mean(this.sums.exact_match),
      exact_match_first_line: mean(this.sums.exact_match_first_line),
      chrf: chrfFromStats(this.chrf),
      bleu: bleuFromStats(this.bleu, false),
      wer: werFromCounts(this.wer),
      iou: mean(this.sums.iou),
      edit_sim: mean(this.sums.edit_sim),
    };
  }
}

/** Scores one pair. */
export function scorePair(hyp: string, ref: string): PairScores {
  return new ScoreAccumulator().add(hyp, ref);
}
