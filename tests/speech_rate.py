"""How fast the emulator speaks in tests whose subject is not a reply's length.

Replies are heard in real time, so their length is the largest wait of the browser and
page tests: at the emulator's natural 190 words a minute a typical reply ("You said ...
My instructions begin ...") lasts 14.6 s, at this rate (espeak-ng's fastest) 5.9 s: still
long enough to be interrupted after the barge-in tests' 3 s lead (tests/e2e/test_voice.py).
"""

FAST_SPEECH_WPM = 450
