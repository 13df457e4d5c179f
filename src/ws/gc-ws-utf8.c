/* gc-ws-utf8.c: UTF-8 validation as RFC 6455 wants it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-ws-utf8.h"

/* UTF-8 validation: a shift-based DFA. Each byte's table entry packs the
 * next state for every current state, 6 bits apart; a state is the bit
 * offset of its field, so one step is a load, a shift and a mask, and the
 * load does not depend on the previous state. That is roughly twice as
 * fast as a class + transition table (Hoehrmann) on non-ASCII text.
 *
 * REJECT is 0 so that transitions not listed below reject; it is absorbing
 * because every field at offset 0 is 0. The DFA refuses overlong forms,
 * surrogates (U+D800-DFFF) and code points past U+10FFFF at the first byte
 * that rules them out. */
#define S_REJECT 0
#define S_ACCEPT 6
#define S_TAIL1  12  /* one continuation byte (80-BF) to go */
#define S_TAIL2  18  /* two to go */
#define S_TAIL3  24  /* three to go */
#define S_E0     30  /* after E0: A0-BF, or it is overlong */
#define S_ED     36  /* after ED: 80-9F, or it is a surrogate */
#define S_F0     42  /* after F0: 90-BF, or it is overlong */
#define S_F4     48  /* after F4: 80-8F, or it is past U+10FFFF */

#define T(from, to) ((guint64) (to) << (from))

#define ASCII    T (S_ACCEPT, S_ACCEPT)
#define CONT_ANY (T (S_TAIL1, S_ACCEPT) | T (S_TAIL2, S_TAIL1) | T (S_TAIL3, S_TAIL2))
#define CONT_80  (CONT_ANY | T (S_ED, S_TAIL1) | T (S_F4, S_TAIL2))  /* 80-8F */
#define CONT_90  (CONT_ANY | T (S_ED, S_TAIL1) | T (S_F0, S_TAIL2))  /* 90-9F */
#define CONT_A0  (CONT_ANY | T (S_E0, S_TAIL1) | T (S_F0, S_TAIL2))  /* A0-BF */
#define LEAD2    T (S_ACCEPT, S_TAIL1)
#define LEAD3    T (S_ACCEPT, S_TAIL2)
#define LEAD4    T (S_ACCEPT, S_TAIL3)
#define LEAD_E0  T (S_ACCEPT, S_E0)
#define LEAD_ED  T (S_ACCEPT, S_ED)
#define LEAD_F0  T (S_ACCEPT, S_F0)
#define LEAD_F4  T (S_ACCEPT, S_F4)
#define BAD      S_REJECT

#define R2(x)  x, x
#define R4(x)  R2 (x), R2 (x)
#define R8(x)  R4 (x), R4 (x)
#define R16(x) R8 (x), R8 (x)
#define R32(x) R16 (x), R16 (x)
#define R64(x) R32 (x), R32 (x)

static const guint64 utf8_dfa[256] = {
  R64 (ASCII), R64 (ASCII),                                /* 00-7F */
  R16 (CONT_80), R16 (CONT_90), R32 (CONT_A0),             /* 80-BF */
  R2 (BAD), R16 (LEAD2), R8 (LEAD2), R4 (LEAD2), R2 (LEAD2), /* C0-C1, C2-DF */
  LEAD_E0, R8 (LEAD3), R4 (LEAD3), LEAD_ED, R2 (LEAD3),    /* E0, E1-EC, ED, EE-EF */
  LEAD_F0, R2 (LEAD4), LEAD4, LEAD_F4,                     /* F0, F1-F3, F4 */
  R8 (BAD), R2 (BAD), BAD,                                 /* F5-FF */
};

G_STATIC_ASSERT (G_N_ELEMENTS (utf8_dfa) == 256);

/* GcWsUtf8State must start (zeroed) in ACCEPT: the stored value is the
 * DFA state XOR S_ACCEPT, which maps ACCEPT to 0. */
#define UTF8_STATE_STORED(s) ((s) ^ S_ACCEPT)

#define ASCII_MASK G_GUINT64_CONSTANT (0x8080808080808080)

gboolean
gc_ws_utf8_validate_chunk (GcWsUtf8State *state,
                           const guint8  *data,
                           gsize          len)
{
  guint64 dfa_state;
  gsize i = 0;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  dfa_state = UTF8_STATE_STORED (state->state);

  while (i < len && dfa_state != S_REJECT)
    {
      gsize run_end;

      if (dfa_state == S_ACCEPT)
        {
          /* Between characters: skip runs of ASCII 16 bytes at a time. */
          while (i + 16 <= len)
            {
              guint64 a, b;

              memcpy (&a, data + i, 8);
              memcpy (&b, data + i + 8, 8);
              if (((a | b) & ASCII_MASK) != 0)
                break;
              i += 16;
            }
          while (i < len && data[i] < 0x80)
            i++;
        }

      /* Then step the DFA over a stretch without branching per byte;
       * REJECT is absorbing, so checking once afterwards is enough. */
      run_end = MIN (len, i + 16);
      for (; i < run_end; i++)
        dfa_state = (utf8_dfa[data[i]] >> dfa_state) & 63;
    }

  state->state = UTF8_STATE_STORED (dfa_state);
  return dfa_state != S_REJECT;
}

gboolean
gc_ws_utf8_state_is_complete (const GcWsUtf8State *state)
{
  g_return_val_if_fail (state != NULL, FALSE);

  return UTF8_STATE_STORED (state->state) == S_ACCEPT;
}

gboolean
gc_ws_utf8_validate (const guint8 *data,
                     gsize         len)
{
  GcWsUtf8State state = { 0, };

  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  return gc_ws_utf8_validate_chunk (&state, data, len) && gc_ws_utf8_state_is_complete (&state);
}
