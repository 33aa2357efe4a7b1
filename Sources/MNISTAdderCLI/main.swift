print("mnist-adder")
