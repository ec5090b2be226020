print("memscope")
