"""The bridge between the window and the engine: thin QObjects on their own QThreads that run
core functions and turn their callbacks into signals. No image maths here.

Nothing is imported at package level, so the window can import `requests` (plain records)
without reaching the module that imports torch.
"""
