/** One socket read copied into a slab, and what became of the body bytes the HTTP parser cut from it. */
interface Piece {
  readonly slab: Slab;
  readonly start: number;
  readonly end: number;
  /** Body chunks made from this piece and handed to their readers. */
  handedOut: number;
  released: number;
  /** Whether a handed-out chunk ended where the piece ends: the parser has read all of it. */
  tailHandedOut: boolean;
}

interface Slab {
  readonly buffer: Buffer;
  used: number;
  /** Pieces not yet wholly done with. */
  open: number;
  /** Whether later reads go to another slab. */
  full: boolean;
  readonly pieces: Piece[];
}

/**
 * The memory socket reads are copied into, cut into one piece per read, and used again once
 * every byte of it is provably done with. Fresh memory costs a page fault for every 4 KiB the
 * first time it is written, more than the copy itself; a pull that reuses its slabs takes a
 * fraction of the faults.
 *
 * A slab goes back to the spare list only when, for every piece in it, the HTTP parser has made
 * body chunks up to the piece's last byte ({@link handedOut}, from undici's diagnostics channel,
 * which sees every chunk it makes) and the reader of each of those chunks has said it is done
 * with it for good ({@link release}). What else a piece held, a response's headers, was copied
 * out by the parser. A piece any part of which went elsewhere (a reader that never releases, a
 * read the socket joined with the next one, bytes dropped before a resumed range) is never done,
 * and its slab is left to the garbage collector: reuse is an optimisation, never a guess.
 */
export class ReadSlabs {
  readonly #slabSize: number;
  readonly #spareLimit: number;
  readonly #slabs = new WeakMap<ArrayBufferLike, Slab>();
  readonly #chunks = new WeakMap<Uint8Array, Piece>();
  readonly #spare: Buffer[] = [];
  #current: Slab | undefined;

  constructor(slabSize: number, spareLimit: number) {
    this.#slabSize = slabSize;
    this.#spareLimit = spareLimit;
  }

  /**
   * A copy of `bytes`, the next piece of the current slab (of a new one when it is full); one
   * larger than a slab gets a buffer of its own.
   */
  cut(bytes: Uint8Array): Buffer {
    if (bytes.byteLength > this.#slabSize) return Buffer.from(bytes);
    let slab = this.#current;
    if (slab === undefined || slab.used + bytes.byteLength > this.#slabSize) {
      if (slab) {
        slab.full = true;
        this.#reuseIfDone(slab);
      }
      slab = this.#newSlab();
      this.#current = slab;
    }
    const piece = slab.buffer.subarray(slab.used, slab.used + bytes.byteLength);
    piece.set(bytes);
    slab.used += bytes.byteLength;
    slab.open++;
    slab.pieces.push({
      slab,
      start: piece.byteOffset,
      end: piece.byteOffset + piece.byteLength,
      handedOut: 0,
      released: 0,
      tailHandedOut: false,
    });
    return piece;
  }

  /** `chunk`, body bytes the HTTP parser made, went to its reader. */
  handedOut(chunk: Uint8Array): void {
    const slab = this.#slabs.get(chunk.buffer);
    if (slab === undefined || chunk.byteLength === 0) return;
    const piece = pieceHolding(slab, chunk.byteOffset, chunk.byteOffset + chunk.byteLength);
    if (piece === undefined) return;
    piece.handedOut++;
    if (chunk.byteOffset + chunk.byteLength === piece.end) piece.tailHandedOut = true;
    this.#chunks.set(chunk, piece);
  }

  /**
   * The reader of `chunk` is done with its bytes for good (they are written): they may be
   * overwritten. Only a chunk the parser handed out counts, and only once; any other is ignored.
   */
  release(chunk: Uint8Array): void {
    const piece = this.#chunks.get(chunk);
    if (piece === undefined) return;
    this.#chunks.delete(chunk);
    piece.released++;
    if (piece.tailHandedOut && piece.released === piece.handedOut) {
      piece.slab.open--;
      this.#reuseIfDone(piece.slab);
    }
  }

  #newSlab(): Slab {
    const buffer = this.#spare.pop() ?? Buffer.allocUnsafeSlow(this.#slabSize);
    const slab: Slab = { buffer, used: 0, open: 0, full: false, pieces: [] };
    this.#slabs.set(buffer.buffer, slab);
    return slab;
  }

  #reuseIfDone(slab: Slab): void {
    if (!slab.full || slab.open > 0) return;
    this.#slabs.delete(slab.buffer.buffer);
    if (this.#spare.length < this.#spareLimit) this.#spare.push(slab.buffer);
  }
}

/** The piece of `slab` that holds all of [start, end), if one does. */
function pieceHolding(slab: Slab, start: number, end: number): Piece | undefined {
  let low = 0;
  let high = slab.pieces.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const piece = slab.pieces[middle] as Piece;
    if (end <= piece.start) high = middle - 1;
    else if (start >= piece.end) low = middle + 1;
    else return start >= piece.start && end <= piece.end ? piece : undefined;
  }
  return undefined;
}
