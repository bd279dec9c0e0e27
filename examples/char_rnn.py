"""A character-level language model (Embedding + LSTM) on a small bundled text.

The text is eight of Shakespeare's sonnets (public domain, about 5 KB). The model reads windows
of characters and learns to predict each next one; at the end it writes a sample.

    python examples/char_rnn.py                 # a few minutes; the loss falls from ~4.0
    python examples/char_rnn.py --steps 5       # a quick smoke run
"""

import argparse

import gradwalk as torch
from gradwalk import nn
from gradwalk.data import char_vocab, encode_text, load_text


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed=32, hidden=64):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, ids, state=None):
        out, state = self.lstm(self.embed(ids), state)   # out: (batch, time, hidden)
        return self.head(out), state                      # logits: (batch, time, vocab)


def sample(model, stoi, chars, prompt="Shall I", length=200, temperature=0.8):
    model.eval()
    ids = [stoi[c] for c in prompt]
    with torch.no_grad():
        logits, state = model(torch.tensor([ids]))
        for _ in range(length):
            probs = torch.softmax(logits[0, -1] / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1).item()
            ids.append(nxt)
            logits, state = model(torch.tensor([[nxt]]), state)
    return "".join(chars[i] for i in ids)


def main(argv=None):
    parser = argparse.ArgumentParser(description="char-level LSTM on Shakespeare's sonnets")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--seq-len", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample-length", type=int, default=300)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    text = load_text("sonnets")
    chars, stoi = char_vocab(text)
    data = encode_text(text, stoi)                      # (len(text),) int64
    model = CharLSTM(len(chars), hidden=args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    print(f"{len(text)} characters, vocabulary of {len(chars)}")

    n_windows = len(text) - args.seq_len - 1
    for step in range(1, args.steps + 1):
        starts = torch.randint(0, n_windows, (args.batch_size,))
        offsets = starts.unsqueeze(1) + torch.arange(args.seq_len + 1)
        chunk = data[offsets]                           # (batch, seq_len + 1)
        inputs, targets = chunk[:, :-1], chunk[:, 1:]
        model.train()
        logits, _ = model(inputs)
        loss = loss_fn(logits.reshape(-1, len(chars)), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        if step == 1 or step % 100 == 0 or step == args.steps:
            print(f"step {step:5d}  loss {loss.item():.4f}")

    print("sample:")
    print(sample(model, stoi, chars, length=args.sample_length))


if __name__ == "__main__":
    main()
